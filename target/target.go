// Package target reads the description of the endpoint the suite judges:
// where it is, which app and users the suite may touch, with which tokens,
// and which alternatives of the documents it follows.
package target

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/profile"
)

// Size metrics a target may declare (the suite measures by them with
// model.UserSize; the reference has its own reading). An empty metric
// means undeclared: size specs then test with a margin on each side
// instead of the exact edge.
const (
	// MetricJSON is the byte length of the compact UTF-8 JSON object of a
	// user's attributes.
	MetricJSON = "json"
	// MetricPairs is the sum of the byte lengths of keys and values.
	MetricPairs = "pairs"
	// BodyRaw means the request body limit counts the raw bytes sent.
	BodyRaw = "raw"
	// BodyJSON means it counts the JSON form of the request's pairs.
	BodyJSON = "json"
)

// Limits are the limits the target enforces; zero means the documented default.
type Limits struct {
	UserBytes    int64 `json:"user_bytes,omitempty"`
	BodyBytes    int64 `json:"body_bytes,omitempty"`
	BatchTargets int   `json:"batch_targets,omitempty"`
}

// ExtraApps are optional apps of the same org that some specs need; a spec
// whose app is not listed is skipped with that reason.
type ExtraApps struct {
	// Second is another app, for isolation and foreign-token specs.
	Second *App `json:"second,omitempty"`
	// SmallQuota has a small app_bytes quota, for the app-total limit.
	SmallQuota *App `json:"small_quota,omitempty"`
	// Disabled has the user-attributes feature switched off.
	Disabled *App `json:"disabled,omitempty"`
	// RateLimited has a low rate_per_second, for the 429 specs.
	RateLimited *App `json:"rate_limited,omitempty"`
}

// Target is a parsed and validated target file.
type Target struct {
	BaseURL string `json:"base_url,omitempty"`
	// Nodes are the base URLs of the nodes of one deployment (several API
	// servers over one store), beside base_url (a balancer in front of
	// them) or instead of it: then base_url is the first node.
	Nodes []string `json:"nodes,omitempty"`
	Org   string   `json:"org"`
	App
	Profile          string            `json:"profile,omitempty"`
	Knobs            map[string]string `json:"knobs,omitempty"`
	SizeMetric       string            `json:"size_metric,omitempty"`
	BodyMetric       string            `json:"body_metric,omitempty"`
	Limits           Limits            `json:"limits,omitempty"`
	SerialisesWrites bool              `json:"serialises_writes,omitempty"`
	// FaultHooks declares that the target fails on request when asked with
	// the X-Conformance-Fault header (the reference with fault hooks on).
	FaultHooks bool `json:"fault_hooks,omitempty"`
	// RequestBudget is the client's request rate per app and operation (requests/s);
	// 0 means the documented 100.
	RequestBudget float64 `json:"request_budget,omitempty"`
	// OptIn enables spec groups that are off by default against a target:
	// OptInBurst (races and rate limits) and OptInHooks (fault hooks).
	OptIn []string `json:"opt_in,omitempty"`
	// PreserveAttributes restores the listed users' attributes as they
	// were before the run, instead of leaving them empty.
	PreserveAttributes bool      `json:"preserve_attributes,omitempty"`
	ExtraApps          ExtraApps `json:"extra_apps,omitempty"`
	// Implementation names the server a published conformance report is
	// about; the runner's flags override it.
	Implementation Implementation `json:"implementation,omitzero"`
}

// Implementation is who stands behind the judged server and which release
// of it was judged, as a conformance report publishes them.
type Implementation struct {
	Organization string `json:"organization,omitempty"`
	Project      string `json:"project,omitempty"`
	Version      string `json:"version,omitempty"`
	// Contact is how to reach the maintainers: an address, a URL, handles.
	Contact string `json:"contact,omitempty"`
}

// maxImplementationField bounds each field of an implementation block:
// one line of a report, not a document.
const maxImplementationField = 200

// Over is i with every field it leaves empty taken from under.
func (i Implementation) Over(under Implementation) Implementation {
	from := under.fields()
	for n, f := range i.fields() {
		if *f.value == "" {
			*f.value = *from[n].value
		}
	}
	return i
}

// fields are i's fields by their names in a target file.
func (i *Implementation) fields() []struct {
	name  string
	value *string
} {
	return []struct {
		name  string
		value *string
	}{{"organization", &i.Organization}, {"project", &i.Project}, {"version", &i.Version}, {"contact", &i.Contact}}
}

// Spec groups a target must opt in to.
const (
	OptInBurst = "burst"
	OptInHooks = "hooks"
)

// OptedIn reports whether the target enables the spec group.
func (t *Target) OptedIn(group string) bool { return slices.Contains(t.OptIn, group) }

// Load reads, expands and validates a target file.
func Load(path string) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("target file: %w", err)
	}
	t, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("target file %s: %w", path, err)
	}
	return t, nil
}

// Parse decodes a target file. Unknown fields are errors (a misspelt key
// must not silently fall back to a default), and every string value may
// be ${VAR}, looked up with env, so tokens need not be written in files.
func Parse(data []byte, env func(string) (string, bool)) (*Target, error) {
	var t Target
	if err := yaml.UnmarshalStrict(data, &t); err != nil {
		return nil, fmt.Errorf("%w (known fields: base_url, nodes, org, app, admin_token, client_id, client_secret, users (name, token, password), profile, knobs, size_metric, body_metric, limits, serialises_writes, fault_hooks, request_budget, opt_in, preserve_attributes, extra_apps, implementation (organization, project, version, contact))", err)
	}
	if err := t.expand(env); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.BaseURL == "" && len(t.Nodes) > 0 {
		t.BaseURL = t.Nodes[0]
	}
	return &t, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (t *Target) expand(env func(string) (string, bool)) error {
	var errs []error
	sub := func(field string, v *string) {
		*v = envRef.ReplaceAllStringFunc(*v, func(ref string) string {
			name := ref[2 : len(ref)-1]
			val, found := env(name)
			if !found {
				errs = append(errs, fmt.Errorf("%s: environment variable %s is not set (export it, or write the value in the file)", field, name))
			}
			return val
		})
	}
	sub("base_url", &t.BaseURL)
	for i := range t.Nodes {
		sub(fmt.Sprintf("nodes[%d]", i), &t.Nodes[i])
	}
	sub("org", &t.Org)
	for _, f := range t.Implementation.fields() {
		sub("implementation."+f.name, f.value)
	}
	for k, v := range t.Knobs {
		sub("knobs."+k, &v)
		t.Knobs[k] = v
	}
	t.eachApp(func(field string, a *App) {
		sub(field+"app", &a.Name)
		sub(field+"admin_token", &a.AdminToken)
		sub(field+"client_id", &a.ClientID)
		sub(field+"client_secret", &a.ClientSecret)
		for i := range a.Users {
			sub(fmt.Sprintf("%susers[%d].name", field, i), &a.Users[i].Name)
			sub(fmt.Sprintf("%susers[%d].token", field, i), &a.Users[i].Token)
			sub(fmt.Sprintf("%susers[%d].password", field, i), &a.Users[i].Password)
		}
	})
	return errors.Join(errs...)
}

// eachApp calls f for the main app and every extra app, with the field
// prefix a message should name.
func (t *Target) eachApp(f func(field string, a *App)) {
	f("", &t.App)
	for _, x := range t.extras() {
		if *x.app != nil {
			f("extra_apps."+x.name+".", *x.app)
		}
	}
}

func (t *Target) extras() []struct {
	name string
	app  **App
} {
	return []struct {
		name string
		app  **App
	}{{"second", &t.ExtraApps.Second}, {"small_quota", &t.ExtraApps.SmallQuota}, {"disabled", &t.ExtraApps.Disabled}, {"rate_limited", &t.ExtraApps.RateLimited}}
}

// MainApp is the role of the target's own app; the extra apps' roles are
// their keys under extra_apps (second, small_quota, disabled, rate_limited).
// Roles name apps across targets whose app names differ.
const MainApp = "main"

// Roles lists the roles the target has an app for, MainApp first.
func (t *Target) Roles() []string {
	out := []string{MainApp}
	for _, x := range t.extras() {
		if *x.app != nil {
			out = append(out, x.name)
		}
	}
	return out
}

// AppByRole is the app of a role, or nil when the target has none.
func (t *Target) AppByRole(role string) *App {
	if role == MainApp {
		return &t.App
	}
	for _, x := range t.extras() {
		if x.name == role {
			return *x.app
		}
	}
	return nil
}

// MinUsers is how many listed users the suite needs for its auth matrix.
const MinUsers = 3

// Validate checks the target and names the field and the fix of each problem.
func (t *Target) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if t.BaseURL != "" && !httpURL(t.BaseURL) {
		bad("base_url: %q is not an http(s) URL such as http://127.0.0.1:8080", shownURL(t.BaseURL))
	}
	nodes := map[string]int{}
	for i, n := range t.Nodes {
		key := strings.TrimSuffix(n, "/")
		switch j, dup := nodes[key]; {
		case !httpURL(n):
			bad("nodes[%d]: %q is not an http(s) URL such as http://127.0.0.1:8081", i, shownURL(n))
		case dup:
			bad("nodes[%d]: %q is nodes[%d] again; list each node once", i, shownURL(n), j)
		}
		nodes[key] = i
	}
	if t.Org == "" {
		bad("org: missing; give the org name of the paths /{org}/{app}/metadata/user/...")
	}
	t.eachApp(func(field string, a *App) {
		if a.Name == "" {
			bad("%sapp: missing; give the app name", field)
		}
		if a.AdminToken == "" {
			bad("%sadmin_token: missing; give the app (admin) token, e.g. ${ADMIN_TOKEN}", field)
		}
		for i, u := range a.Users {
			if !ValidUsername(u.Name) {
				bad("%susers[%d].name: %q is not a username (1-64 of a-z A-Z 0-9 _ - .)", field, i, u.Name)
			}
		}
	})
	if len(t.Users) < MinUsers {
		bad("users: %d listed; list at least %d existing users the suite may write to", len(t.Users), MinUsers)
	}
	tokened := 0
	for _, u := range t.Users {
		if u.Token != "" {
			tokened++
		}
	}
	if tokened > 0 && tokened < 2 {
		bad("users: only one user has a token; give tokens to at least two users (or none, to skip the user-token specs)")
	}
	seen := map[string]bool{}
	for i, u := range t.Users {
		if seen[FoldName(u.Name)] {
			bad("users[%d].name: %q is listed twice (usernames are case-insensitive)", i, u.Name)
		}
		seen[FoldName(u.Name)] = true
	}
	switch t.SizeMetric {
	case "", MetricJSON, MetricPairs:
	default:
		bad("size_metric: %q is unknown; use %q, %q, or leave it out to test with margins", t.SizeMetric, MetricJSON, MetricPairs)
	}
	switch t.BodyMetric {
	case "", BodyRaw, BodyJSON:
	default:
		bad("body_metric: %q is unknown; use %q, %q, or leave it out to test with margins", t.BodyMetric, BodyRaw, BodyJSON)
	}
	for i, g := range t.OptIn {
		if g != OptInBurst && g != OptInHooks {
			bad("opt_in[%d]: %q is unknown; use %q (races and rate limits) or %q (fault hooks)", i, g, OptInBurst, OptInHooks)
		}
	}
	if t.RequestBudget < 0 {
		bad("request_budget: must be positive (requests per second per app and operation), or left out for 100")
	}
	if t.Limits.UserBytes < 0 || t.Limits.BodyBytes < 0 || t.Limits.BatchTargets < 0 {
		bad("limits: values must be positive, or left out for the documented defaults")
	}
	if _, err := t.ResolveProfile(); err != nil {
		bad("profile/knobs: %v", err)
	}
	if t.Implementation != (Implementation{}) {
		for _, f := range t.Implementation.fields() {
			switch v := *f.value; {
			case v == "" && (f.name == "organization" || f.name == "project"):
				bad("implementation.%s: missing; a conformance report names the organization and the project it judged (or give --%s)", f.name, f.name)
			case len(v) > maxImplementationField || strings.ContainsFunc(v, unicode.IsControl) || v != strings.TrimSpace(v):
				bad("implementation.%s: give one line of at most %d characters, without leading or trailing spaces", f.name, maxImplementationField)
			}
		}
	}
	return errors.Join(errs...)
}

// shownURL is a URL as messages may quote it: without its userinfo, which
// may hold a password.
func shownURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User == nil {
			return s
		}
		u.User = nil
		return u.String()
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		return "…" + s[at+1:]
	}
	return s
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// NodeURLs are the base URLs of the deployment's nodes: nodes, or base_url
// alone when the target lists no nodes.
func (t *Target) NodeURLs() []string {
	if len(t.Nodes) > 0 {
		return t.Nodes
	}
	return []string{t.BaseURL}
}

// ResolveProfile is the profile the target names, with its knob overrides.
func (t *Target) ResolveProfile() (profile.Profile, error) {
	p, err := profile.Named(t.Profile)
	if err != nil {
		return profile.Profile{}, err
	}
	return p.With(t.Knobs)
}

// Budget is the client's request rate per app and operation, with its default.
func (t *Target) Budget() float64 {
	if t.RequestBudget == 0 {
		return DefaultRatePerSecond
	}
	return t.RequestBudget
}

// The documented default limits: of a user's attributes (UA-LIMIT-001),
// of a PUT's body (UA-LIMIT-002), of a batch's targets (UA-BATCH-005), of
// an app's calls of one operation per second (UA-RATE-001).
const (
	DefaultUserBytes     int64 = 2048
	DefaultBodyBytes     int64 = 4096
	DefaultBatchTargets        = 100
	DefaultRatePerSecond       = 100
)

// UserLimit, BodyLimit and BatchLimit are the limits with their defaults.
func (t *Target) UserLimit() int64 { return or(t.Limits.UserBytes, DefaultUserBytes) }
func (t *Target) BodyLimit() int64 { return or(t.Limits.BodyBytes, DefaultBodyBytes) }
func (t *Target) BatchLimit() int  { return int(or(int64(t.Limits.BatchTargets), DefaultBatchTargets)) }

func or(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// Secrets lists every token, client secret and password in the target,
// and the credentials in the userinfo of its URLs (base_url, nodes): the
// password, the whole userinfo and its Basic credentials as an HTTP client
// sends them, or the user alone when it has no password (then it is the
// credential). Longest first, for redaction.
func (t *Target) Secrets() []string {
	var out []string
	keep := func(s ...string) {
		for _, v := range s {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	t.eachApp(func(_ string, a *App) {
		keep(a.AdminToken, a.ClientSecret)
		for _, u := range a.Users {
			keep(u.Token, u.Password)
		}
	})
	for _, raw := range append([]string{t.BaseURL}, t.Nodes...) {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			continue
		}
		if pw, ok := u.User.Password(); ok {
			keep(pw, u.User.String(), base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
		} else {
			keep(u.User.Username())
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// Tenant is the org and every app the target lists, as a server would hold them.
func (t *Target) Tenant() Tenant {
	tn := Tenant{Org: t.Org}
	t.eachApp(func(_ string, a *App) { tn.Apps = append(tn.Apps, *a) })
	return tn
}
