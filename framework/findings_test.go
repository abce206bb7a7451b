package framework

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/attrconform/attrconform/target"
)

// Every exchange is judged by the single-exchange rules: a broken rule is
// a finding of its own requirement, counted where the exchanges were
// made, with the first exchange as reports show it (no token); the
// contract's own finding is left to the spec that received the answer.
func TestTheTransportJudgesEveryExchange(t *testing.T) {
	const token = "YWMtAdmin-0123456789"
	answer := `{"timestamp":1716268800,"data":{},"duration":0,"echo":"` + token + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/capacity") {
			fmt.Fprintf(w, `{"timestamp":%d,"data":{},"duration":0}`, time.Now().UnixMilli()) // only the contract refuses it
			return
		}
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	e, err := NewEnv(&target.Target{BaseURL: srv.URL, Org: "acme", App: target.App{Name: "chat", AdminToken: token}})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.Admin()
	for range 2 {
		if _, err := admin.Send(http.MethodGet, "/metadata/user/alice", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	e.findings.now("a spec")
	admin.Send(http.MethodGet, "/metadata/user/capacity", "", "") // data {} breaks the contract: the spec's to fail

	found := e.Findings()
	if len(found) != 1 {
		t.Fatalf("findings %+v: want the timestamp in seconds once, from the preflight's place", found)
	}
	f := found[0]
	if f.Requirement != "UA-GEN-003" || f.In != inPreflight || f.Count != 2 || f.Exchange == nil || f.Exchange.Path != "/acme/chat/metadata/user/alice" {
		t.Errorf("finding %+v", f)
	}
	if strings.Contains(f.Problem+f.Exchange.String(), token) {
		t.Errorf("the finding quotes the token: %+v", f)
	}
}
