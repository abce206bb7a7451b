package store

// Accounts is implemented by stores that also keep what the server
// creates at run time besides attributes: users registered through the
// API and tokens issued by its token endpoint. The tenant file's own users
// and tokens are never stored; the server has them from the file.
type Accounts interface {
	// AddAccounts stores new accounts of an app, all of them or none.
	AddAccounts(app string, accounts []Account) error
	// LoadAccounts returns the accounts stored for an app.
	LoadAccounts(app string) ([]Account, error)
	// AddToken stores an issued token.
	AddToken(t Token) error
	// LoadTokens returns every stored token.
	LoadTokens() ([]Token, error)
}

// SharedAccounts is implemented by stores that several servers share (the
// etcd store): a server asks it for an account or a token it does not
// know, which another server may have created.
type SharedAccounts interface {
	Accounts
	LookupAccount(app, name string) (Account, bool, error)
	LookupToken(token string) (Token, bool, error)
}

// Account is a user registered at run time. The password is kept only as
// a salted hash.
type Account struct {
	Name    string `json:"name"` // folded username
	Salt    []byte `json:"salt,omitempty"`
	Hash    []byte `json:"hash,omitempty"` // empty: the account has no password
	Created int64  `json:"created"`        // Unix ms
}

// Token is a token issued at run time.
type Token struct {
	Token   string `json:"-"`
	App     string `json:"app"`
	User    string `json:"user,omitempty"`    // folded username; empty for an app (admin) token
	Expires int64  `json:"expires,omitempty"` // Unix ms; 0 never expires
}
