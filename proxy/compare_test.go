package proxy

import (
	"strings"
	"testing"

	"github.com/attrconform/attrconform/reference"
	"github.com/attrconform/attrconform/target"
)

func TestBodyDifferenceIgnoresVolatileMembers(t *testing.T) {
	cases := []struct{ recorded, replayed, want string }{
		{`{"timestamp":1,"duration":2,"data":{"a":"1"}}`, `{"duration":9,"data":{"a":"1"},"timestamp":5}`, ""},
		{`{"timestamp":1,"data":{"a":"1"},"uri":"http://x/acme/chat"}`, `{"timestamp":2,"data":{"a":"1"},"uri":"http://y/o/a"}`, ""},
		{`{"data":{"a":"1"}}`, `{"data":{"a":"2"}}`, `data is {"a":"2"}, recorded {"a":"1"}`},
		{`{"data":true}`, `{"data":true,"error":"x"}`, `error is "x", recorded absent`},
		{`plain`, `plain`, ""},
		{`plain`, `other`, "body other, recorded plain"},
		{`[1,2]`, `[1,3]`, "body [1,3], recorded [1,2]"},
	}
	for _, c := range cases {
		got := bodyDifference([]byte(c.recorded), []byte(c.replayed))
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s vs %s: %q, want %q", c.recorded, c.replayed, got, c.want)
		}
	}
}

func TestProxyRedactsEveryTokenItSaw(t *testing.T) {
	tg := testTarget()
	tg.BaseURL = "http://127.0.0.1:1"
	p, err := New(Options{Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	p.see("Bearer abc")
	p.see("Bearer a-long-unlisted-token-1")
	p.see("Bearer a-long-unlisted-token-1-and-more")
	p.see("Basic short")
	got := p.Redact("x a-long-unlisted-token-1-and-more y a-long-unlisted-token-1 z abc short " + tg.AdminToken + " bearer sometokenvalue1")
	if want := "x [REDACTED] y [REDACTED] z abc [REDACTED] [REDACTED] bearer [REDACTED]"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

func testTarget() *target.Target {
	tg, err := reference.BundledTarget()
	if err != nil {
		panic(err)
	}
	return tg
}
