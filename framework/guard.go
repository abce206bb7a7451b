package framework

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/evidence"
	"github.com/attrconform/attrconform/target"
)

// The guards that make a run safe against someone's production: a
// preflight that stops a hopeless run with one line, the sweep of the
// listed users before and after the run, the leak check, the opt-in gate
// for bursts and fault hooks, and the record of every user touched.

// optInLabels maps spec labels to the target's opt-in group they need.
var optInLabels = map[string]string{LabelBurst: target.OptInBurst, LabelHooks: target.OptInHooks}

// LabelHooks marks specs that need the target's fault hooks.
const LabelHooks = "hooks"

// GateOptIns disables the running spec when it carries a label whose
// group the target did not opt in to; the suites call it before each spec.
func GateOptIns() {
	e := Current()
	for _, l := range CurrentSpecReport().Labels() {
		if group, ok := optInLabels[l]; ok && !e.Target.OptedIn(group) {
			Skip(fmt.Sprintf("%sthe %q specs are off for this target; enable them with opt_in: [%s] in the target file or --opt-in %s", evidence.DisabledPrefix, l, group, group))
		}
	}
}

// touched records which users of which apps the run sent requests for.
type touched struct {
	mu    sync.Mutex
	users map[string]map[string]bool // app -> user -> written
}

func (t *touched) add(app, path, method string) {
	rest, ok := strings.CutPrefix(path, "/metadata/user/")
	if !ok || rest == "" || (method == http.MethodPost && rest == "get") || (method == http.MethodGet && rest == "capacity") {
		return
	}
	user, err := url.PathUnescape(rest)
	if err != nil {
		user = rest
	}
	user = target.FoldName(user)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.users == nil {
		t.users = map[string]map[string]bool{}
	}
	if t.users[app] == nil {
		t.users[app] = map[string]bool{}
	}
	t.users[app][user] = t.users[app][user] || method != http.MethodGet
}

// Touched lists, per app, the users the run addressed, marking with "*"
// those it wrote to; generated names (which no target can hold) are
// counted, not listed.
func (e *Env) Touched() (listed map[string][]string, generated int) {
	e.touched.mu.Lock()
	defer e.touched.mu.Unlock()
	listed = map[string][]string{}
	for app, users := range e.touched.users {
		for u, written := range users {
			if strings.Contains(u, generatedPrefix) {
				generated++
				continue
			}
			if written {
				u += "*"
			}
			listed[app] = append(listed[app], u)
		}
		sort.Strings(listed[app])
	}
	return listed, generated
}

// Preflight checks, before any spec runs, that the target (and each of its
// nodes) answers, that
// its admin token is accepted, that the listed users exist and that their
// tokens are accepted. Its error is one line saying what to fix, with no
// secret in it, whatever the target answered.
func (e *Env) Preflight() error {
	if err := e.preflight(); err != nil {
		if cause := e.Stopped(); cause != nil {
			err = fmt.Errorf("preflight: the run stopped: %w", cause)
		}
		return errors.New(e.Redactor.Excerpt(oneLine(err), MaxMessage))
	}
	return nil
}

func (e *Env) preflight() error {
	admin := e.Admin()
	r, err := admin.Send(http.MethodGet, "/metadata/user/capacity", "", "")
	if err != nil {
		return fmt.Errorf("preflight: %s does not answer as the API: %s", e.Target.BaseURL, oneLine(err))
	}
	switch {
	case r.Status == http.StatusUnauthorized:
		return fmt.Errorf("preflight: the target refuses admin_token (401 %s); check the token and its app %q", r.Text(), e.Target.App.Name)
	case r.Status == http.StatusNotFound:
		return fmt.Errorf("preflight: the target knows no org %q with app %q (404 %s); check org and app", e.Target.Org, e.Target.App.Name, r.Text())
	case r.Status != http.StatusOK:
		return fmt.Errorf("preflight: reading capacity with admin_token answered %d %s", r.Status, r.Text())
	}
	for i, node := range e.Target.Nodes {
		r, err := admin.On(i).Send(http.MethodGet, "/metadata/user/capacity", "", "")
		switch {
		case err != nil:
			return fmt.Errorf("preflight: nodes[%d] %s does not answer as the API: %s", i, node, oneLine(err))
		case r.Status != http.StatusOK:
			return fmt.Errorf("preflight: nodes[%d] %s: reading capacity with admin_token answered %d %s; every node must serve the same org and app", i, node, r.Status, r.Text())
		}
	}
	for i, u := range e.Target.Users {
		if err := e.userExists(admin, u.Name); err != nil {
			return fmt.Errorf("preflight: users[%d] %q: %v", i, u.Name, err)
		}
		if u.Token == "" {
			continue
		}
		r, err := e.As(u).Send(http.MethodGet, userPath(u.Name), "", "")
		if err != nil {
			return fmt.Errorf("preflight: users[%d] %q: %s", i, u.Name, oneLine(err))
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("preflight: users[%d].token is refused for its own user %q (%d %s)", i, u.Name, r.Status, r.Text())
		}
	}
	return nil
}

// userExists writes one of the user's own values back unchanged (or, for
// a user without attributes, writes and deletes a marker): an admin write
// answers 404 for a user without an account (UA-PUT-009).
func (e *Env) userExists(admin Caller, name string) error {
	r, err := admin.Send(http.MethodGet, userPath(name), "", "")
	if err != nil {
		return errors.New(oneLine(err))
	}
	var attrs map[string]string
	if r.Status == http.StatusOK {
		attrs = r.attrsOrNil()
	}
	body := Form(preflightKey, "1")
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		body = Form(k, attrs[k])
		break
	}
	w, err := admin.Send(http.MethodPut, userPath(name), body, "application/x-www-form-urlencoded")
	if err != nil {
		return errors.New(oneLine(err))
	}
	if len(attrs) == 0 && w.Status == http.StatusOK {
		admin.Send(http.MethodDelete, userPath(name), "", "")
	}
	switch w.Status {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
		return errors.New("no such user on the target (an admin write answered 404); list users that exist")
	default:
		return fmt.Errorf("an admin write answered %d %s", w.Status, w.Text())
	}
}

const (
	preflightKey    = "attrconform_preflight"
	generatedPrefix = "zz-conform-"
)

// listedUsers are the users the run may write to, per app caller.
func (e *Env) listedUsers() []struct {
	c     Caller
	users []target.User
} {
	out := []struct {
		c     Caller
		users []target.User
	}{{e.Admin(), e.Target.Users}}
	x := e.Target.ExtraApps
	for _, a := range []*target.App{x.Second, x.SmallQuota, x.RateLimited} {
		if a != nil && len(a.Users) > 0 {
			out = append(out, struct {
				c     Caller
				users []target.User
			}{e.AdminOf(a).Unbudgeted(), a.Users})
		}
	}
	return out
}

// Snapshot is what the listed users held: app -> user -> attributes.
type Snapshot map[string]map[string]map[string]string

// PrepareUsers records the listed users' attributes (to restore them when
// the target asks to preserve them) and empties them for the specs.
func (e *Env) PrepareUsers() (Snapshot, error) {
	e.findings.now(inSetup)
	snap := Snapshot{}
	for _, g := range e.listedUsers() {
		snap[g.c.app.Name] = map[string]map[string]string{}
		for _, u := range g.users {
			r, err := g.c.Send(http.MethodGet, userPath(u.Name), "", "")
			if err != nil {
				return nil, fmt.Errorf("reading %s/%s before the run: %s", g.c.app.Name, u.Name, oneLine(err))
			}
			snap[g.c.app.Name][u.Name] = r.attrsOrNil()
			if err := e.clear(g.c, u.Name); err != nil {
				return nil, err
			}
		}
	}
	return snap, nil
}

// RestoreUsers empties the listed users again, or restores the snapshot
// when the target preserves attributes, and then checks that every listed
// user holds what it should: the leak check. It returns what was left
// behind. It runs also after the run stopped, within CleanupTimeout, and
// tries no further user once the target gives no answer; its error names
// every user it could not restore.
func (e *Env) RestoreUsers(snap Snapshot) ([]string, error) {
	e.findings.now(inCleanup)
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	var leaks, failed, untried []string
	var gone string // why no further user is tried
	for _, g := range e.listedUsers() {
		c := g.c
		c.ctx = ctx
		for _, u := range g.users {
			if gone == "" && ctx.Err() != nil {
				gone = fmt.Sprintf("the cleanup's %v were spent", CleanupTimeout)
			}
			if gone != "" {
				untried = append(untried, c.app.Name+"/"+u.Name)
				continue
			}
			leak, err := e.restore(c, u.Name, snap[c.app.Name][u.Name])
			switch {
			case err != nil:
				failed = append(failed, oneLine(err))
				if transportError(err) {
					gone = "the target stopped answering"
				}
			case leak != "":
				leaks = append(leaks, leak)
			}
		}
	}
	if len(failed) == 0 {
		return leaks, nil
	}
	msg := "could not restore every listed user: " + strings.Join(failed, "; ")
	if len(untried) > 0 {
		msg += fmt.Sprintf("; not tried, %s: %s", gone, strings.Join(untried, ", "))
	}
	return leaks, fmt.Errorf("%s (their attributes may be as the specs left them)", msg)
}

// restore empties user, writes want back when the target preserves
// attributes, and reads the user back: a leak is what it holds beyond
// want. A failed request is returned wrapped, naming the step.
func (e *Env) restore(c Caller, user string, want map[string]string) (leak string, err error) {
	if err := e.clear(c, user); err != nil {
		return "", err
	}
	if !e.Target.PreserveAttributes || len(want) == 0 {
		want = map[string]string{}
	} else if r, err := c.Send(http.MethodPut, userPath(user), FormOf(want), "application/x-www-form-urlencoded"); err != nil || r.Status != http.StatusOK {
		return "", stepError("restoring", c, user, r, err)
	}
	r, err := c.Send(http.MethodGet, userPath(user), "", "")
	switch {
	case err != nil:
		return "", stepError("the leak check of", c, user, r, err)
	case r.Status == http.StatusNotFound && len(want) == 0:
		return "", nil // holds nothing, as some readings answer a user without attributes
	case r.Status != http.StatusOK:
		// A refusal (a 429 the budget could not wait out, a 5xx) shows
		// nothing of what the user holds: not a clean check.
		return "", stepError("the leak check of", c, user, r, nil)
	}
	if got := r.attrsOrNil(); !maps.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		return fmt.Sprintf("%s/%s holds %d attributes, expected %d", c.app.Name, user, len(got), len(want)), nil
	}
	return "", nil
}

func (e *Env) clear(c Caller, user string) error {
	r, err := c.Send(http.MethodDelete, userPath(user), "", "")
	if err != nil || r.Status != http.StatusOK {
		return stepError("emptying", c, user, r, err)
	}
	return nil
}

// stepError says which step failed for user and how: the request's error
// (wrapped), or the answer.
func stepError(step string, c Caller, user string, r *Response, err error) error {
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", step, c.app.Name, user, err)
	}
	return fmt.Errorf("%s %s/%s: %d %s", step, c.app.Name, user, r.Status, r.Text())
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
