package framework

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/target"
)

// User is the i-th user the target lists (0: the writer, 1: another user,
// 2: a third); the target file guarantees at least three.
func (e *Env) User(i int) target.User { return e.Target.Users[i] }

// UsersWithTokens returns n listed users that have tokens, or skips the
// spec saying why.
func (e *Env) UsersWithTokens(n int) []target.User {
	GinkgoHelper()
	var out []target.User
	for _, u := range e.Target.Users {
		if u.Token != "" {
			out = append(out, u)
		}
	}
	if len(out) < n {
		Skip(fmt.Sprintf("needs %d users with tokens; the target gives tokens to %d", n, len(out)))
	}
	return out[:n]
}

// LongUser is a listed user whose name has the maximum 64 characters.
func (e *Env) LongUser() target.User {
	GinkgoHelper()
	for _, u := range e.Target.Users {
		if len(u.Name) == 64 {
			return u
		}
	}
	Skip("needs a listed user whose name has 64 characters; the target lists none")
	return target.User{}
}

// Unknown is a fresh username that no target can hold: valid syntax,
// random, and not among the listed users.
func Unknown() string {
	b := make([]byte, 8)
	rand.Read(b)
	return generatedPrefix + hex.EncodeToString(b)
}

// ExtraApp is one of the target's extra apps, or the spec is skipped.
func (e *Env) ExtraApp(role string) *target.App {
	GinkgoHelper()
	var a *target.App
	switch role {
	case "second":
		a = e.Target.ExtraApps.Second
	case "small_quota":
		a = e.Target.ExtraApps.SmallQuota
	case "disabled":
		a = e.Target.ExtraApps.Disabled
	case "rate_limited":
		a = e.Target.ExtraApps.RateLimited
	}
	if a == nil {
		Skip(fmt.Sprintf("needs extra_apps.%s in the target file", role))
	}
	return a
}

// Clear deletes the attributes of the given users of the main app as its
// admin, so a spec starts from a known state.
func (e *Env) Clear(users ...string) {
	GinkgoHelper()
	e.ClearIn(e.Admin(), users...)
}

// ClearIn deletes the users' attributes through caller c.
func (e *Env) ClearIn(c Caller, users ...string) {
	GinkgoHelper()
	for _, u := range users {
		Expect(c.Delete(u)).To(HaveStatus(http.StatusOK), "clearing the attributes of %s before the spec", u)
	}
}
