package judge_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/attrconform/attrconform/contract"
	"github.com/attrconform/attrconform/evidence"
)

// BenchmarkRules prices the single-exchange rules on an exchange the
// contract already checked: what the suite's transport adds to each
// exchange beside the validation (contract's BenchmarkValidation).
func BenchmarkRules(b *testing.B) {
	j := newJudge(b, tenant(b))
	now := time.Now()
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	for _, x := range []struct{ name, method, path, contentType, body, answer string }{
		{"GET", http.MethodGet, userPath, "", "", `{"timestamp":` + ms + `,"data":{"nickname":"Ann","city":"Oslo"},"duration":1}`},
		{"PUT", http.MethodPut, userPath, form, "nickname=Ann&city=Oslo", `{"timestamp":` + ms + `,"data":{"nickname":"Ann","city":"Oslo"},"duration":1}`},
		{"403", http.MethodPut, userPath, form, userOver, `{"error":"FORBIDDEN","error_description":"` + sizeText + `","timestamp":` + ms + `,"duration":0}`},
	} {
		ex := evidence.Exchange{Method: x.method, URL: base + x.path, RequestHeader: http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {x.contentType}},
			RequestBody: x.body, RequestSize: int64(len(x.body)), Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			ResponseBody: x.answer, Sent: now, Received: now.Add(time.Millisecond)}
		if x.name == "403" {
			ex.Status = http.StatusForbidden
		}
		checked := contract.Checked{Operation: "setUserAttributes"}
		if x.method == http.MethodGet {
			checked.Operation = "getUserAttributes"
		}
		b.Run(x.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := j.Checked(ex, checked); len(v.Violations) > 0 {
					b.Fatal(v.Violations)
				}
			}
		})
	}
}
