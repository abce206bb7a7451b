package model

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/attrconform/attrconform/profile"
)

// The documented facts the rules stand on, in one place so that the
// suite's other packages (the specs, the harness, the judge) name them
// instead of repeating them: the app's default quota, the margins of an
// undeclared size metric, the envelope's tolerances, the error texts in
// each style, how a client matches them, and the statuses the profile
// knobs choose between. The other default limits are the target's
// (target.DefaultUserBytes, ...), which every reading of a target file
// shares.

// DefaultAppBytes is the documented default quota of an app
// (UA-LIMIT-003): 10 GiB.
const DefaultAppBytes int64 = 10 << 30

// Margins of a size limit whose metric the target does not declare
// (UA-LIMIT-005): for the default 2048-byte limit, 1500 bytes must pass
// and 2100 must fail under any reasonable metric; other limits scale.
const (
	marginBelow = 1500
	marginAbove = 2100
	marginBase  = 2048
)

// MarginBelow is the size that must pass under any reasonable metric
// when the limit is limit bytes.
func MarginBelow(limit int64) int64 { return limit * marginBelow / marginBase }

// MarginAbove is the size that must fail under any reasonable metric.
func MarginAbove(limit int64) int64 {
	return (limit*marginAbove + marginBase - 1) / marginBase
}

// Envelope tolerances: a timestamp is Unix milliseconds within ClockSkew
// of the exchange's send and receive times; a duration is milliseconds,
// at most the exchange's elapsed time plus DurationSlack (a server's
// handling lies within the exchange; the slack covers rounding).
const (
	ClockSkew     = 5 * 60 * 1000 // ms
	DurationSlack = 5             // ms
)

// Style is one of the documents' two families of error texts (D-10).
type Style string

// The styles, as the error_text_style knob names them.
const (
	Current Style = "current"
	Legacy  Style = "legacy"
)

// ErrorKind is a documented error: its status, its error type in the
// current documents, its text in each style and the requirements that
// give them. Texts are matched as case-insensitive substrings, as clients
// match them; an empty text means any non-empty text is allowed.
type ErrorKind struct {
	Name   string
	Status int
	// Type is the error member the current documents give, "" when any
	// (or none) is allowed; TypeRequired makes it required in every style.
	Type         string
	TypeRequired bool
	Current      string
	Legacy       string
	// IDs are the requirements that document the answer.
	IDs []string
	// TextIDs are the requirements a wrong text breaks.
	TextIDs []string
}

// The documented errors of the five operations. Texts with %d take the
// limit; %s takes the app key (org#app).
var (
	ErrNoToken        = ErrorKind{Name: "no token", Status: http.StatusUnauthorized, IDs: []string{"UA-AUTH-001"}}
	ErrBadToken       = ErrorKind{Name: "unknown token", Status: http.StatusUnauthorized, IDs: []string{"UA-AUTH-002"}}
	ErrForeignToken   = ErrorKind{Name: "token of another app", Status: http.StatusUnauthorized, IDs: []string{"UA-AUTH-010"}}
	ErrOtherUserWrite = ErrorKind{Name: "user token for another user", Status: http.StatusUnauthorized, Type: "metadata_error",
		Current: "auth error", Legacy: "unauthorized", IDs: []string{"UA-AUTH-004"}, TextIDs: []string{"UA-ERR-002"}}
	ErrUnknownUserWrite = ErrorKind{Name: "user token for a user without an account", Status: http.StatusUnauthorized, Type: "metadata_error",
		Current: "auth error", Legacy: "unauthorized", IDs: []string{"UA-AUTH-005"}}
	ErrOtherUserRead = ErrorKind{Name: "user token reading another user", Status: http.StatusUnauthorized, Type: "metadata_error",
		Current: "auth error", Legacy: "unauthorized", IDs: []string{"UA-AUTH-008"}}
	ErrOtherUserDelete = ErrorKind{Name: "user token deleting another user", Status: http.StatusUnauthorized, Type: "metadata_error",
		Current: "auth error", Legacy: "unauthorized", IDs: []string{"UA-AUTH-009", "UA-DEL-004"}}
	ErrSelfDeleteDenied = ErrorKind{Name: "user token deleting itself where only the admin deletes", Status: http.StatusUnauthorized,
		Current: "auth error", Legacy: "unauthorized", IDs: []string{"UA-AUTH-009", "UA-DEL-004"}}
	ErrCapacityUser = ErrorKind{Name: "user token reading capacity", Status: http.StatusUnauthorized, Type: "unauthorized",
		Current: "unauthorized", Legacy: "unauthorized", IDs: []string{"UA-AUTH-006", "UA-CAP-002"}, TextIDs: []string{"UA-ERR-002"}}
	ErrUnknownUserPut = ErrorKind{Name: "admin write for a user without an account", Status: http.StatusNotFound, Type: "service_resource_not_found",
		Current: "Service resource not found", Legacy: "Not Found", IDs: []string{"UA-PUT-009"}, TextIDs: []string{"UA-ERR-002"}}
	ErrInvalidName  = ErrorKind{Name: "invalid username", Status: http.StatusBadRequest, IDs: []string{"UA-NAME-005"}}
	ErrUserTooLarge = ErrorKind{Name: "user over its size limit", Status: http.StatusForbidden, Type: "FORBIDDEN",
		Current: "size of metadata for this single user exceeds the user defined limit, %dBytes", Legacy: "user metadata length exceed the limit",
		IDs: []string{"UA-LIMIT-001"}, TextIDs: []string{"UA-ERR-002"}}
	ErrBodyTooLarge = ErrorKind{Name: "body over its size limit", Status: http.StatusForbidden, Type: "FORBIDDEN",
		Current: "exceeds the user defined limit", Legacy: "user metadata length exceed the limit",
		IDs: []string{"UA-LIMIT-002"}, TextIDs: []string{"UA-ERR-002"}}
	ErrBodyTooLarge413 = ErrorKind{Name: "body over its size limit (413)", Status: http.StatusRequestEntityTooLarge, IDs: []string{"UA-LIMIT-002"}}
	ErrAppTooLarge     = ErrorKind{Name: "app over its quota", Status: http.StatusForbidden, Type: "FORBIDDEN",
		Current: "total size of user metadata for this app exceeds the user defined limit, %dBytes", Legacy: "user metadata length exceed the limit",
		IDs: []string{"UA-LIMIT-003"}, TextIDs: []string{"UA-ERR-002"}}
	ErrFieldTooLong = ErrorKind{Name: "standard field over its client convention", Status: http.StatusForbidden, Type: "FORBIDDEN",
		Current: "column size", Legacy: "column size", IDs: []string{"UA-PUT-011"}}
	ErrPutJSON = ErrorKind{Name: "PUT with a JSON body", Status: http.StatusUnsupportedMediaType, Type: "UNSUPPORTED_MEDIA_TYPE",
		IDs: []string{"UA-PUT-002"}}
	ErrEmptyPut  = ErrorKind{Name: "PUT without pairs", Status: http.StatusBadRequest, IDs: []string{"UA-PUT-008"}}
	ErrEmptyKey  = ErrorKind{Name: "pair with an empty key", Status: http.StatusBadRequest, IDs: []string{"UA-PUT-003"}}
	ErrBadForm   = ErrorKind{Name: "form body that does not decode", Status: http.StatusBadRequest, IDs: []string{"UA-PUT-003"}}
	ErrBatchSize = ErrorKind{Name: "batch over its cap", Status: http.StatusBadRequest, Type: "BAD_REQUEST",
		Current: "exceed allowed batch size %d", Legacy: "exceed allowed batch size %d", IDs: []string{"UA-BATCH-006"}, TextIDs: []string{"UA-BATCH-006", "UA-ERR-002"}}
	ErrBatchBody       = ErrorKind{Name: "malformed batch body", Status: http.StatusBadRequest, IDs: []string{"UA-BATCH-008"}}
	ErrBatchProperties = ErrorKind{Name: "batch without properties where they are required", Status: http.StatusBadRequest,
		IDs: []string{"UA-BATCH-004"}}
	ErrDisabled = ErrorKind{Name: "user attributes switched off for the app", Status: http.StatusForbidden, Type: "FORBIDDEN",
		Current: "%s user metadata service not allow", Legacy: "%s user metadata service not allow", IDs: []string{"UA-ERR-003"}, TextIDs: []string{"UA-ERR-003"}}
	ErrUnknownApp = ErrorKind{Name: "unknown org or app", Status: http.StatusNotFound, Type: "organization_application_not_found", TypeRequired: true,
		IDs: []string{"UA-GEN-001"}}
	ErrConflict = ErrorKind{Name: "concurrent update", Status: http.StatusConflict, Type: "CONFLICT",
		Current: "Failed to update userMetadata. Concurrent updates not allowed", Legacy: "update userMetadata failed, concurrent updates not allowed",
		IDs: []string{"UA-CONC-001"}, TextIDs: []string{"UA-CONC-002"}}
	ErrNoOperation = ErrorKind{Name: "a path that names no operation", Status: http.StatusNotFound, IDs: []string{"UA-GEN-006", "UA-ERR-001"}}
	ErrNoMethod    = ErrorKind{Name: "a method the path does not have", Status: http.StatusMethodNotAllowed, IDs: []string{"UA-GEN-009"}}
	ErrOneUser     = ErrorKind{Name: "a PUT without a username", Status: http.StatusBadRequest, IDs: []string{"UA-PUT-013"}}
	ErrStore       = ErrorKind{Name: "store failure (fault hook)", Status: http.StatusInternalServerError, IDs: []string{"UA-ERR-004"}}
	ErrOverload    = ErrorKind{Name: "overload (fault hook)", Status: http.StatusServiceUnavailable, IDs: []string{"UA-ERR-004"}}
	ErrRateLimit   = ErrorKind{Name: "over the rate limit", Status: http.StatusTooManyRequests, Type: "reach_limit",
		Current: "This request has reached api limit", Legacy: "reached api limit", IDs: []string{"UA-RATE-002"}, TextIDs: []string{"UA-ERR-002"}}
)

// Requirements are the requirements the model's rules decide for a
// sequential client, sorted. (UA-CONC-* are decided only with
// Config.Concurrent; UA-RATE-* are documented facts here, ErrRateLimit and
// RetryAfter, that no rule decides.)
var Requirements = []string{
	"UA-AUTH-001", "UA-AUTH-002", "UA-AUTH-003", "UA-AUTH-004", "UA-AUTH-005", "UA-AUTH-006", "UA-AUTH-007", "UA-AUTH-008", "UA-AUTH-009", "UA-AUTH-010",
	"UA-BATCH-001", "UA-BATCH-002", "UA-BATCH-003", "UA-BATCH-004", "UA-BATCH-005", "UA-BATCH-006", "UA-BATCH-007", "UA-BATCH-008", "UA-BATCH-009", "UA-BATCH-010", "UA-BATCH-011",
	"UA-CAP-001", "UA-CAP-002", "UA-CAP-003", "UA-CAP-004",
	"UA-DEL-001", "UA-DEL-002", "UA-DEL-003", "UA-DEL-004",
	"UA-ERR-001", "UA-ERR-002", "UA-ERR-003", "UA-ERR-004",
	"UA-GEN-001", "UA-GEN-002", "UA-GEN-003", "UA-GEN-004", "UA-GEN-005", "UA-GEN-006", "UA-GEN-007", "UA-GEN-008", "UA-GEN-009",
	"UA-GET-001", "UA-GET-002", "UA-GET-003", "UA-GET-004", "UA-GET-005", "UA-GET-006",
	"UA-LIMIT-001", "UA-LIMIT-002", "UA-LIMIT-003", "UA-LIMIT-005", "UA-LIMIT-006",
	"UA-NAME-001", "UA-NAME-002", "UA-NAME-003", "UA-NAME-004", "UA-NAME-005",
	"UA-PUT-001", "UA-PUT-002", "UA-PUT-003", "UA-PUT-004", "UA-PUT-005", "UA-PUT-006", "UA-PUT-007", "UA-PUT-008", "UA-PUT-009", "UA-PUT-010", "UA-PUT-011", "UA-PUT-012", "UA-PUT-013",
}

// Styles are the styles, as the error_text_style knob names them.
var Styles = []Style{Current, Legacy}

// Text is the kind's text in a style with its argument filled in, "" when
// the documents give none.
func (k ErrorKind) Text(s Style, arg any) string {
	t := k.Current
	if s == Legacy {
		t = k.Legacy
	}
	if t == "" || arg == nil || !strings.Contains(t, "%") {
		return t
	}
	return fmt.Sprintf(t, arg)
}

// Stem is the kind's text in a style up to its argument: what tells the
// text apart whatever the argument (a limit, an app key) is.
func (k ErrorKind) Stem(s Style) string {
	t, _, _ := strings.Cut(k.Text(s, nil), "%")
	return t
}

// Says reports whether an answer's text says want, as clients match
// texts: a case-insensitive substring, where a number ends where its
// digits end ("size 1000" does not say "size 100").
func Says(text, want string) bool {
	text, want = strings.ToLower(text), strings.ToLower(want)
	for i := 0; ; {
		j := strings.Index(text[i:], want)
		if j < 0 {
			return false
		}
		end := i + j + len(want)
		if want == "" || !digit(want[len(want)-1]) || end == len(text) || !digit(text[end]) {
			return true
		}
		i += j + 1
	}
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// StatusOf is the status an alternative of a status knob stands for
// (batch_over_limit_status, body_limit_status, ...): the alternatives of
// those knobs are status codes. It is 0 for an alternative that is not.
func StatusOf(alt string) int {
	n, err := strconv.Atoi(alt)
	if err != nil || n < 100 || n > 599 {
		return 0
	}
	return n
}

// Statuses are the statuses knob k's alternatives stand for, sorted; nil
// when k chooses between something other than statuses.
func Statuses(k profile.Knob) []int {
	d, ok := profile.Lookup(k)
	if !ok {
		return nil
	}
	var out []int
	for alt := range d.Alternatives {
		n := StatusOf(alt)
		if n == 0 {
			return nil
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
