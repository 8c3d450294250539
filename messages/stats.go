package messages

import "strings"

// The statistics' dimensions (StatsQuery.dims): everything, a
// department's, an agent's, an agent's in a department.
const StatsEverything = "*"

func StatsDepartment(id string) string { return "d=" + id }
func StatsAgent(id string) string      { return "a=" + id }

// StatsAgentIn is an agent's figures in one department (ids have no '/').
func StatsAgentIn(agent, department string) string { return "a=" + agent + "/d=" + department }

// DefaultAnswerTargetS is a department's answer target when it sets
// none (Department.answer_target_s 0), in seconds.
const DefaultAnswerTargetS = 60

// RefusalName is a refusal reason's name in the figures and the metrics:
// "queue_full" for REFUSAL_REASON_QUEUE_FULL.
func RefusalName(r RefusalReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "REFUSAL_REASON_"))
}
