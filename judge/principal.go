package judge

import (
	"strings"

	"github.com/attrconform/attrconform/target"
)

// Kinds of principal a request can act as.
const (
	KindAdmin = "admin" // an app (admin) token of the target file
	KindUser  = "user"  // a user token of the target file
	// KindNone: no Authorization header.
	KindNone = "none"
	// KindUnknown: a token the target file does not list.
	KindUnknown = "unknown"
)

// Principal is who a request acted as, named without its token: the kind,
// the app's role in the target file (target.MainApp or an extra_apps key)
// and, for a user token, the user's name. Roles rather than app names let
// a recorded request be replayed with another target's tokens.
type Principal struct {
	Kind string `json:"kind"`
	App  string `json:"app,omitempty"`
	User string `json:"user,omitempty"`
}

// Identify names the principal of an Authorization header value.
func Identify(t *target.Target, authorization string) Principal {
	if authorization == "" {
		return Principal{Kind: KindNone}
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return Principal{Kind: KindUnknown}
	}
	for _, role := range t.Roles() {
		app := t.AppByRole(role)
		if token == app.AdminToken {
			return Principal{Kind: KindAdmin, App: role}
		}
		for _, u := range app.Users {
			if u.Token != "" && token == u.Token {
				return Principal{Kind: KindUser, App: role, User: u.Name}
			}
		}
	}
	return Principal{Kind: KindUnknown}
}

// Token is the token of p in t, with whether t has one: how a replay
// speaks as the recorded principal to another target.
func (p Principal) Token(t *target.Target) (string, bool) {
	app := t.AppByRole(p.App)
	if app == nil {
		return "", false
	}
	switch p.Kind {
	case KindAdmin:
		return app.AdminToken, app.AdminToken != ""
	case KindUser:
		for _, u := range app.Users {
			if target.FoldName(u.Name) == target.FoldName(p.User) && u.Token != "" {
				return u.Token, true
			}
		}
	}
	return "", false
}

func (p Principal) String() string {
	app := ""
	if p.App != "" && p.App != target.MainApp {
		app = " (extra app " + p.App + ")"
	}
	switch p.Kind {
	case KindAdmin:
		return "admin" + app
	case KindUser:
		return "user " + p.User + app
	case KindNone:
		return "no token"
	}
	return "an unlisted token"
}
