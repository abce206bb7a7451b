package target

// The accounts a user-attributes service holds: an org, its apps, their
// admin tokens and their users. The reference server serves a tenant; a
// target file lists the part of one the suite may use.

import "strings"

// User is an account of an app, with a user token when one is known.
type User struct {
	Name  string `json:"name"`
	Token string `json:"token,omitempty"`
	// Password, when set, lets the user log in at the reference's token
	// endpoint (grant_type password). Optional; a secret, never printed.
	Password string `json:"password,omitempty"`
}

// App is one app of an org.
type App struct {
	Name       string `json:"app"`
	AdminToken string `json:"admin_token"`
	Users      []User `json:"users,omitempty"`
	// AppBytes is the app's total attribute quota; 0 means the default.
	AppBytes int64 `json:"app_bytes,omitempty"`
	// RatePerSecond is the app's request budget per operation; 0 means the default.
	RatePerSecond float64 `json:"rate_per_second,omitempty"`
	// MetadataDisabled switches the user-attributes feature off for the app.
	MetadataDisabled bool `json:"metadata_disabled,omitempty"`
	// ClientID and ClientSecret, when both are set, let a client get an
	// app (admin) token at the reference's token endpoint (grant_type
	// client_credentials). Optional; the secret is never printed.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// Tenant is an org and its apps.
type Tenant struct {
	Org  string
	Apps []App
}

// FoldName is the identity of a username: usernames are case-insensitive.
func FoldName(name string) string { return strings.ToLower(name) }

// ValidUsername reports whether name follows the documented rules: 1 to 64
// characters from a-z, A-Z, 0-9, '_', '-', '.'.
func ValidUsername(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
