package contract_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/attrconform/attrconform/contract"
)

// endless is a body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// Hostile answers are violations with a short message naming what is
// wrong, read no further than contract.MaxBodyBytes and never held for
// more memory than a few times that.
func TestHostileAnswersAreBoundedViolations(t *testing.T) {
	prefix := `{"timestamp":1,"data":{"a":"` + strings.Repeat("x", contract.MaxBodyBytes-40) + `"},"duration":3}`
	deep := `{"timestamp":1,"duration":3,"data":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}`
	var wide strings.Builder
	wide.WriteString(`{"timestamp":1,"duration":3,"data":{`)
	for i := range 285_000 {
		if i > 0 {
			wide.WriteByte(',')
		}
		wide.WriteString(`"` + strconv.Itoa(i) + `":1`)
	}
	wide.WriteString("}}")
	cases := []struct {
		name string
		body func() io.Reader
		want string
	}{
		{"endless", func() io.Reader { return io.MultiReader(strings.NewReader(`{"data":"`), endless{}) }, "the answer is more than 4194304 bytes"},
		{"a valid prefix, then garbage", func() io.Reader { return strings.NewReader(prefix + strings.Repeat("garbage", 100)) }, "the answer is more than 4194304 bytes"},
		{"nested 9000 deep", func() io.Reader { return strings.NewReader(deep) }, "nests JSON more than 32 levels deep"},
		{"285,000 keys wide", func() io.Reader { return strings.NewReader(wide.String()) }, "a JSON object of more than 100000 members"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.Copy(w, tc.body())
			}))
			defer srv.Close()
			c, _ := client(t, srv)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Do(get(context.Background(), srv.URL+"/acme/chat/metadata/user/alice"))
			runtime.ReadMemStats(&after)
			var v *contract.Violation
			if !errors.As(err, &v) || !strings.Contains(v.Error(), tc.want) {
				t.Fatalf("want a violation saying %q, got %v", tc.want, cut(err))
			}
			if n := len(v.Error()); n > 4096 {
				t.Errorf("the violation's message is %d bytes", n)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 200<<20 {
				t.Errorf("judging the answer allocated %d MB", grew>>20)
			}
		})
	}
}

func cut(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()[:min(len(err.Error()), 500)]
}

// A redirect is judged as an answer: never followed, and its violation
// says where it pointed.
func TestARedirectSaysItWasNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/acme/chat/metadata/user/alice", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := client(t, srv)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	_, err := c.Do(get(context.Background(), srv.URL+"/acme/chat/metadata/user/alice"))
	var v *contract.Violation
	if !errors.As(err, &v) || !strings.Contains(v.Error(), "-> 302") || !strings.Contains(v.Error(), "the answer is a redirect to "+other.URL+"/acme/chat/metadata/user/alice, which was not followed") {
		t.Fatalf("want a violation naming the redirect's target, got %v", cut(err))
	}
	if elsewhere.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}
