package framework

import "testing"

// A file in the report directory is linked relative to it; one elsewhere
// by its path.
func TestRelativeLinksFilesOfTheReportDirectory(t *testing.T) {
	for _, c := range [][3]string{
		{"/r", "/r/history-1-round-2.html", "history-1-round-2.html"},
		{"/r", "/r/sub/v.html", "sub/v.html"},
		{"/r", "/tmp/x/v.html", "/tmp/x/v.html"},
		{"/r", "/r2/v.html", "/r2/v.html"},
		{"", "/tmp/v.html", "/tmp/v.html"},
	} {
		if got := Relative(c[0], c[1]); got != c[2] {
			t.Errorf("Relative(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
