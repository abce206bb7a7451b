package target

import (
	"slices"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

const valid = `
base_url: http://127.0.0.1:8080
org: acme
app: chat
admin_token: ${ADMIN}
users:
  - {name: alice, token: "${ALICE}"}
  - {name: bob, token: tok-bob-0001, password: "${BOBPW}"}
  - {name: carol}
extra_apps:
  second: {app: lobby, admin_token: "${LOBBY}"}
`

func TestParseExpandsEnvironmentVariables(t *testing.T) {
	tg, err := Parse([]byte(valid), env(map[string]string{"ADMIN": "adm-secret-1", "ALICE": "alice-secret-1", "LOBBY": "lobby-secret-1", "BOBPW": "bob-secret-pw"}))
	if err != nil {
		t.Fatal(err)
	}
	if tg.AdminToken != "adm-secret-1" || tg.Users[0].Token != "alice-secret-1" || tg.ExtraApps.Second.AdminToken != "lobby-secret-1" {
		t.Fatalf("not expanded: %+v", tg)
	}
	if got := slices.Sorted(slices.Values(tg.Secrets())); !slices.Equal(got, []string{"adm-secret-1", "alice-secret-1", "bob-secret-pw", "lobby-secret-1", "tok-bob-0001"}) {
		t.Fatalf("Secrets() = %q", got)
	}
	if n := len(tg.Tenant().Apps); n != 2 {
		t.Fatalf("tenant has %d apps, want 2", n)
	}
}

func TestParseNamesTheFieldAndTheFix(t *testing.T) {
	cases := map[string]string{
		valid + "admin_tokn: x\n":                                                                                  `unknown field "admin_tokn"`,
		strings.Replace(valid, "org: acme\n", "", 1):                                                               "org: missing",
		strings.Replace(valid, "  - {name: carol}\n", "", 1):                                                       "list at least 3 existing users",
		valid + "size_metric: chars\n":                                                                             `size_metric: "chars" is unknown`,
		valid + "profile: strict\n":                                                                                `unknown profile "strict"`,
		valid + "knobs: {get_unknown_user: \"418\"}\n":                                                             `has no alternative "418"`,
		strings.Replace(valid, "127.0.0.1:8080", "127.0.0.1:8080 x", 1):                                            "base_url",
		strings.Replace(valid, "name: bob", "name: bad name", 1):                                                   `users[1].name: "bad name" is not a username`,
		strings.Replace(valid, "name: bob", "name: ALICE", 1):                                                      "listed twice",
		valid + "implementation: {organization: acme, projekt: chat}\n":                                            `unknown field "projekt"`,
		valid + "implementation: {organization: acme, version: v1}\n":                                              "implementation.project: missing",
		valid + "implementation: {organization: acme, project: \"a\\nb\"}\n":                                       "implementation.project: give one line",
		valid + "implementation: {organization: acme, project: chat, contact: " + strings.Repeat("x", 201) + "}\n": "implementation.contact: give one line of at most 200 characters",
	}
	vars := env(map[string]string{"ADMIN": "a-0000001", "ALICE": "b-0000001", "LOBBY": "c-0000001", "BOBPW": "d-0000001"})
	for doc, want := range cases {
		_, err := Parse([]byte(doc), vars)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %q, got %v\nfor:\n%s", want, err, doc)
		}
	}
	_, err := Parse([]byte(valid), env(nil))
	if err == nil || !strings.Contains(err.Error(), "admin_token: environment variable ADMIN is not set") {
		t.Errorf("missing variable: %v", err)
	}
}

// The implementation block names what a conformance report judged; its
// values may come from the environment, and flags override field by field.
func TestImplementationBlock(t *testing.T) {
	doc := valid + "implementation:\n  organization: Acme Inc.\n  project: chat-api\n  version: ${RELEASE}\n  contact: api@acme.example\n"
	tg, err := Parse([]byte(doc), env(map[string]string{"ADMIN": "a", "ALICE": "b", "LOBBY": "c", "BOBPW": "d", "RELEASE": "v3.2.0"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Implementation{Organization: "Acme Inc.", Project: "chat-api", Version: "v3.2.0", Contact: "api@acme.example"}
	if tg.Implementation != want {
		t.Fatalf("implementation %+v, want %+v", tg.Implementation, want)
	}
	want.Version = "v3.3.0-rc1"
	if got := (Implementation{Version: "v3.3.0-rc1"}).Over(tg.Implementation); got != want {
		t.Fatalf("a flag's version over the file's: %+v, want %+v", got, want)
	}
}

func TestRolesNameTheAppsAcrossTargets(t *testing.T) {
	tg, err := Parse([]byte(valid), env(map[string]string{"ADMIN": "a", "ALICE": "b", "LOBBY": "c", "BOBPW": "d"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tg.Roles(), ","); got != "main,second" {
		t.Fatalf("roles %q, want main,second", got)
	}
	if tg.AppByRole(MainApp).Name != "chat" || tg.AppByRole("second").Name != "lobby" || tg.AppByRole("disabled") != nil || tg.AppByRole("nope") != nil {
		t.Fatalf("AppByRole does not follow the file")
	}
}

// The credentials in a URL's userinfo are secrets, and no message quotes
// them.
func TestURLCredentialsAreSecrets(t *testing.T) {
	doc := strings.Replace(valid, "base_url: http://127.0.0.1:8080", "base_url: http://ops:pa55word@127.0.0.1:8080\nnodes: [\"http://tok3n@127.0.0.1:8081\", \"http://ops:pa55word@127.0.0.1:8080 x\"]", 1)
	vars := env(map[string]string{"ADMIN": "a-0000001", "ALICE": "b-0000001", "LOBBY": "c-0000001", "BOBPW": "d-0000001"})
	_, err := Parse([]byte(doc), vars)
	if err == nil || strings.Contains(err.Error(), "pa55word") || !strings.Contains(err.Error(), "nodes[1]") {
		t.Fatalf("want an error naming nodes[1] without its password, got %v", err)
	}
	tg, err := Parse([]byte(strings.Replace(doc, " x\"]", "/\"]", 1)), vars)
	if err != nil {
		t.Fatal(err)
	}
	secrets := strings.Join(tg.Secrets(), " ")
	for _, want := range []string{"pa55word", "ops:pa55word", "b3BzOnBhNTV3b3Jk", "tok3n"} {
		if !strings.Contains(" "+secrets+" ", " "+want+" ") {
			t.Errorf("Secrets() = %q lacks %q", secrets, want)
		}
	}
}
