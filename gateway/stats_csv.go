package gateway

import (
	"encoding/csv"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboard-chat/switchboard/messages"
)

// writeStatsCSV writes a report as CSV: a header, one row per bucket and
// a last row "total"; the columns are StatsFigures' fields in order, the
// refusals one column per reason (refused_<reason>).
func writeStatsCSV(w http.ResponseWriter, rep *messages.StatsReport) {
	fields := (&messages.StatsFigures{}).ProtoReflect().Descriptor().Fields()
	var reasons []string
	for n := range messages.RefusalReason_name {
		if r := messages.RefusalReason(n); r != messages.RefusalReason_REFUSAL_REASON_UNSPECIFIED {
			reasons = append(reasons, messages.RefusalName(r))
		}
	}
	sort.Strings(reasons)
	var head []string
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.IsMap() {
			for _, r := range reasons {
				head = append(head, string(f.Name())+"_"+r)
			}
			continue
		}
		head = append(head, string(f.Name()))
	}
	name := "switchboard-stats"
	for _, x := range []string{rep.GetDepartment(), rep.GetAgentId(), rep.GetFrom()[:min(10, len(rep.GetFrom()))]} {
		if x != "" {
			name += "-" + x
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.Map(safeFileRune, name)+`.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(head)
	total := rep.GetTotal()
	if total == nil {
		total = &messages.StatsFigures{}
	}
	total.Start = "total"
	for _, f := range append(rep.GetBuckets(), total) {
		_ = cw.Write(statsRow(f, fields, reasons))
	}
	cw.Flush()
}

// statsRow is f's cells in the columns of writeStatsCSV.
func statsRow(f *messages.StatsFigures, fields protoreflect.FieldDescriptors, reasons []string) []string {
	m := f.ProtoReflect()
	var row []string
	for i := range fields.Len() {
		fd := fields.Get(i)
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			for _, r := range reasons {
				row = append(row, strconv.FormatUint(uint64(f.GetRefused()[r]), 10))
			}
		case fd.Kind() == protoreflect.StringKind:
			row = append(row, v.String())
		case fd.Kind() == protoreflect.DoubleKind:
			row = append(row, strconv.FormatFloat(v.Float(), 'f', -1, 64))
		default:
			row = append(row, strconv.FormatUint(v.Uint(), 10))
		}
	}
	return row
}

// safeFileRune keeps a file name's letters, digits, '-', '_' and '.'.
func safeFileRune(r rune) rune {
	if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
		return r
	}
	return '_'
}
