package redact

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const admin = "YWMtChatAdmin-3f9c2a71d8e54b6a"

func TestRedactRemovesEverySecretAndKeepsTheRest(t *testing.T) {
	r := New(admin, "p@ss word/+1", `pa"ss<wd-9`, "t", "u", "v")
	cases := []struct{ in, want string }{
		{"Authorization: Bearer " + admin, "Authorization: Bearer " + Mark},
		{"token=" + admin + "&x=1", "token=" + Mark + "&x=1"},
		{"%20" + admin, "%20" + Mark},
		{"glued" + admin + "glued", "glued" + Mark + "glued"},
		{"pw " + url.QueryEscape("p@ss word/+1") + " " + url.PathEscape("p@ss word/+1"), "pw " + Mark + " " + Mark},
		{`{"auth":"pa\"ss\u003cwd-9"}`, `{"auth":"` + Mark + `"}`},
		{"<x>pa&#34;ss&lt;wd-9</x>", "<x>" + Mark + "</x>"},
		// One-character secrets only as whole words.
		{`Get "http://127.0.0.1:9/acme/chat/metadata/user/capacity": dial tcp 127.0.0.1:9: connect: connection refused`,
			`Get "http://127.0.0.1:9/acme/chat/metadata/user/capacity": dial tcp 127.0.0.1:9: connect: connection refused`},
		{`{"error_description":"token t is invalid","token":"u"}`, `{"error_description":"token ` + Mark + ` is invalid","token":"` + Mark + `"}`},
		// Userinfo of any URL; credentials after a scheme.
		{"dial http://user:hunter2@10.0.0.1/x failed", "dial http://" + Mark + "@10.0.0.1/x failed"},
		{"echo: bearer Zm9vYmFyYmF6cXV4", "echo: bearer " + Mark},
		{"header Basic dXNlcjpodW50ZXIy", "header Basic " + Mark},
		{"the request carries no bearer token", "the request carries no bearer token"},
		{"Bearer authentication", "Bearer authentication"},
	}
	for _, c := range cases {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
	if r.Weak() != 3 {
		t.Errorf("Weak() = %d, want 3 (t, u, v)", r.Weak())
	}
}

// A text cut anywhere inside a secret, at its end or its start (a body
// read that stopped inside a token, a write split in two), keeps no piece
// of it of minPiece bytes or more.
func TestRedactRemovesWhatACutLeft(t *testing.T) {
	r := New(admin, "short7x")
	for _, secret := range []string{admin, "short7x"} {
		text := `{"error_description":"bad token ` + secret + `","desc":"x"}`
		for i := 0; i <= len(text); i++ {
			for _, part := range []string{text[:i], text[i:]} {
				got := r.Redact(part)
				if leaks(got, secret) {
					t.Fatalf("Redact(%q) = %q keeps a piece of %q", part, got, secret)
				}
			}
		}
	}
	for in, want := range map[string]string{
		"the end: YWMtCh": "the end: " + Mark,
		"the end: YWMtC":  "the end: YWMtC", // 5 bytes are no piece
		"%20YWMtChatAdm":  "%20" + Mark,     // glued, at the end
		`{"desc":"bad token YWMtChatAd, try again"}`: `{"desc":"bad token ` + Mark + `, try again"}`,
		`{"desc":"bad token …e54b6a, try again"}`:    `{"desc":"bad token …` + Mark + `, try again"}`,
		"short7 is a word":                           Mark + " is a word",
		"short7x7 is another":                        "short7x7 is another",
	} {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// A user whose password starts with the user's name keeps the name.
	pw := New("alice-password-1")
	for _, in := range []string{"/acme/chat/metadata/user/alice", `{"data":{"alice":{"a":"1"}}}`, "a password is wrong"} {
		if got := pw.Redact(in); got != in {
			t.Errorf("Redact(%q) = %q", in, got)
		}
	}
}

// leaks reports whether s holds minPiece or more bytes of secret in a row.
func leaks(s, secret string) bool {
	for i := 0; i+minPiece <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+minPiece]) {
			return true
		}
	}
	return false
}

func TestWriterRedactsEachWrite(t *testing.T) {
	var b bytes.Buffer
	w := New(admin).Writer(&b)
	fmt.Fprintf(w, "one %s two\n", admin)
	fmt.Fprint(w, "split "+admin[:12])
	fmt.Fprint(w, admin[12:]+" end\n")
	if strings.Contains(b.String(), admin[:minPiece]) || strings.Contains(b.String(), admin[len(admin)-minPiece:]) {
		t.Fatalf("writer let a token through: %q", b.String())
	}
	if want := "one " + Mark + " two\nsplit " + Mark + Mark + " end\n"; b.String() != want {
		t.Fatalf("%q, want %q", b.String(), want)
	}
}

func TestShortenSaysHowMuchIsLeftOut(t *testing.T) {
	if got := Shorten("héllo world", 2); got != "h… 11 bytes more" {
		t.Errorf("%q: a cut must not split a character", got)
	}
	if got := Shorten("short", 10); got != "short" {
		t.Errorf("%q", got)
	}
	if got := New(admin).Excerpt(admin+admin, 20); got != Mark+Mark {
		t.Errorf("Excerpt must redact before it shortens: %q", got)
	}
	huge := strings.Repeat("x", 290) + admin + strings.Repeat("y", 8<<20)
	if got := New(admin).Excerpt(huge, 300); got != strings.Repeat("x", 290)+Mark[:10]+"… "+fmt.Sprint(len(huge)-290-len(admin))+" bytes more" {
		t.Errorf("a token across the cut of a long text: %q", got[280:])
	}
}

func TestAddLearnsSecretsUpToTheBound(t *testing.T) {
	r := New()
	if got := r.Redact("x " + admin); got != "x "+admin {
		t.Fatalf("an empty redactor changed %q", got)
	}
	r.Add(admin, "")
	if got := r.Redact("x " + admin); got != "x "+Mark {
		t.Fatalf("a learnt secret stayed: %q", got)
	}
	for i := range 2 * maxSecrets {
		r.Add(fmt.Sprintf("learnt-token-%06d", i))
	}
	if n := len(r.known); n != maxSecrets {
		t.Fatalf("holds %d secrets, want at most %d", n, maxSecrets)
	}
}

func BenchmarkRedactKiloByte(b *testing.B) {
	r := New(admin, "alice-token-000001", "bob-token-0000002", "pw")
	text := strings.Repeat(`{"error":"bad","error_description":"some words here"}`, 20)
	for b.Loop() {
		r.Redact(text)
	}
}
