package gateway

import "testing"

// TestWidgetSizeBudget: the widget's loader stays under 10 KB and its
// frame (page, scripts, styles and the shared modules it loads) under
// 60 KB, both as served (gzipped).
func TestWidgetSizeBudget(t *testing.T) {
	web := loadWebAssets()
	loader, _ := web.Size("/widget.js")
	if loader == 0 || loader > 10<<10 {
		t.Fatalf("widget.js is %d bytes gzipped; the budget is 10 KB", loader)
	}
	frame := 0
	for _, p := range []string{"/widget/index.html", "/widget/app.js", "/widget/form.js", "/widget/chat.js",
		"/widget/i18n.js", "/widget/widget.css", "/lib/client.js", "/lib/dom.js", "/lib/files.js"} {
		gz, _ := web.Size(p)
		if gz == 0 {
			t.Fatalf("%s is missing", p)
		}
		frame += gz
	}
	for p := range web {
		if len(p) > 8 && p[:8] == "/widget/" {
			if gz, _ := web.Size(p); gz == 0 {
				t.Fatalf("%s is empty", p)
			}
		}
	}
	if frame > 60<<10 {
		t.Fatalf("the widget's frame is %d bytes gzipped; the budget is 60 KB", frame)
	}
	t.Logf("loader %d bytes, frame %d bytes (gzipped)", loader, frame)
}
