package explore

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/attrconform/attrconform/model"
	"github.com/attrconform/attrconform/profile"
	"github.com/attrconform/attrconform/target"
)

// The generators: every request the contract allows and its edges, drawn
// from rapid's recorded choices so that a failing sequence shrinks. Simple
// choices come first in each list: rapid shrinks towards them.

// call is a request as the explorer sends it: the model's reading, the
// Authorization header it carries and, for a PUT to a name no listed user
// has, whether its answer could create data.
type call struct {
	req  model.Request
	auth string // "" sends none
}

// Tokens that no app issued: one malformed, one well formed.
const (
	garbledToken = "!!not*a*token!!"
	neverIssued  = "YWMtNeverIssued0000000000000000"
)

// generatedPrefix starts every name the explorer makes up: no target can
// hold an account of that name (framework.Unknown uses it too).
const generatedPrefix = "zz-conform-"

// Alphabets of keys and values: plain, the form's reserved characters,
// whitespace, multi-byte text, characters JSON escapes, and empty.
var alphabets = [][]rune{
	[]rune("abcdefghijklmnopqrstuvwxyz0123456789"),
	[]rune("ABCxyz_-.~*"),
	[]rune("&=+%#;?/:@"),
	[]rune(" \t\n"),
	[]rune("深圳éß😀"),
	[]rune("\"\\<>&\u2028\x01"),
}

// keyPool are keys that collide often: the client keys, case variants,
// avatar beside avatarurl, a key with a space.
var keyPool = []string{"nickname", "ext", "avatarurl", "avatar", "Nickname", "sign", "display name", "k", "phone", "mail", "gender", "birth"}

// text draws a string of up to n runes from a mix of alphabets.
func text(t *rapid.T, label string, n int) string {
	which := rapid.SliceOfNDistinct(rapid.IntRange(0, len(alphabets)-1), 1, 3, rapid.ID[int]).Draw(t, label+"-alphabets")
	var runes []rune
	for _, i := range which {
		runes = append(runes, alphabets[i]...)
	}
	return rapid.StringOfN(rapid.SampledFrom(runes), 0, n, -1).Draw(t, label)
}

// key draws an attribute key: mostly from the pool, else any text.
func key(t *rapid.T) string {
	if rapid.IntRange(0, 3).Draw(t, "key-kind") > 0 {
		return rapid.SampledFrom(keyPool).Draw(t, "key")
	}
	k := text(t, "key-text", 12)
	if k == "" {
		k = "k"
	}
	return k
}

// encodings of one form component.
const (
	encStandard = iota // url.QueryEscape: spaces as +
	encPercent         // spaces as %20
	encLowerHex        // escapes in lower-case hex
	encRaw             // sent as is (the web SDK's single-attribute call)
)

// encode writes s as a form component in encoding enc; raw only when s
// holds nothing the form reads specially (else standard).
func encode(s string, enc int) string { return encodeAs(s, enc, "&=+%") }

// encodeValue is encode for a value, where a raw '=' reads as itself: a
// pair splits at its first '=' (the web SDK sends avatarurl=http://x/?s=2
// as is).
func encodeValue(s string, enc int) string { return encodeAs(s, enc, "&+%") }

// encodeAs is encode with the characters that make raw unsafe.
func encodeAs(s string, enc int, special string) string {
	q := url.QueryEscape(s)
	switch enc {
	case encPercent:
		return strings.ReplaceAll(q, "+", "%20")
	case encLowerHex:
		var b strings.Builder
		for i := 0; i < len(q); i++ {
			if q[i] == '%' && i+2 < len(q) {
				b.WriteString("%" + strings.ToLower(q[i+1:i+3]))
				i += 2
				continue
			}
			b.WriteByte(q[i])
		}
		return b.String()
	case encRaw:
		if !strings.ContainsAny(s, special) {
			return s
		}
	}
	return q
}

// formPair is one pair of a form body as drawn.
type formPair struct {
	key, value string
	enc        int
}

func (p formPair) String() string { return encode(p.key, p.enc) + "=" + encodeValue(p.value, p.enc) }

// form draws a PUT body: pairs in any encoding, sometimes a key twice, an
// empty key, empty values, stray separators, or no pairs at all.
func form(t *rapid.T) string {
	n := rapid.IntRange(0, 4).Draw(t, "pairs")
	var parts []string
	for range n {
		p := formPair{key: key(t), enc: rapid.IntRange(encStandard, encRaw).Draw(t, "encoding")}
		switch rapid.IntRange(0, 7).Draw(t, "value-kind") {
		case 0:
			p.value = ""
		case 1:
			p.value = text(t, "value", 24)
		case 2:
			// Values that look like other JSON types are strings all the same.
			p.value = rapid.SampledFrom([]string{"true", "false", "null", "1", "0", "-1.5", "[1]", "{}"}).Draw(t, "literal")
		case 3:
			// Values real clients send, with the form's reserved characters.
			p.value = rapid.SampledFrom([]string{"http://x/a.png?s=2", "a=b", "=", "1+1=2", "50%", "x&y", "a b", "mailto:a@b.c"}).Draw(t, "client-value")
		default:
			p.value = rapid.StringMatching(`[a-z0-9]{1,12}`).Draw(t, "value")
		}
		parts = append(parts, p.String())
		switch rapid.IntRange(0, 11).Draw(t, "oddity") {
		case 1:
			parts = append(parts, encode(p.key, encStandard)+"="+encode(text(t, "again", 8), encStandard)) // the key again
		case 2:
			parts = append(parts, "="+encode(text(t, "keyless", 6), encStandard)) // an empty key
		case 3:
			parts = append(parts, "") // a stray &
		case 4:
			parts = append(parts, "k%zz=%"+rapid.SampledFrom([]string{"", "4", "G1"}).Draw(t, "bad-escape")) // a % that starts no escape
		case 5:
			parts = append(parts, encode(otherCase(p.key), encStandard)+"=other-case") // keys are case-sensitive
		}
	}
	return strings.Join(parts, "&")
}

// sized draws a PUT body that lands a user's total, or the body itself,
// on, just below or just over a limit, computed with the model's metrics.
func sized(t *rapid.T, cfg model.Config, attrs map[string]string) string {
	userLimit, bodyLimit := cfg.UserLimit, cfg.BodyLimit
	targets := []int64{userLimit, userLimit + 1, userLimit - 1, model.MarginBelow(userLimit), model.MarginAbove(userLimit)}
	if rapid.Bool().Draw(t, "body-edge") {
		return bodyOf(t, cfg, []int64{bodyLimit, bodyLimit + 1, bodyLimit - 1, model.MarginBelow(bodyLimit), model.MarginAbove(bodyLimit)})
	}
	total := rapid.SampledFrom(targets).Draw(t, "user-edge")
	k := rapid.SampledFrom([]string{"k", "ext", "nickname", "fill"}).Draw(t, "fill-key")
	if len(attrs) > 0 && rapid.Bool().Draw(t, "overwrite") {
		keys := slices.Sorted(maps.Keys(attrs))
		k = rapid.SampledFrom(keys).Draw(t, "fill-existing")
	}
	metric := cfg.SizeMetric
	if metric == "" {
		metric = target.MetricPairs // the margins count key and value bytes
	}
	with := map[string]string{}
	for kk, v := range attrs {
		with[kk] = v
	}
	with[k] = ""
	n := total - model.UserSize(metric, with).Max
	if n < 0 {
		n = 0
	}
	if cfg.SizeMetric == target.MetricJSON && len(attrs) == 0 {
		// {"k":""} counts; a lone empty value may be removed: keep one byte.
		n = max(n, 1)
	}
	return url.QueryEscape(k) + "=" + strings.Repeat("v", int(n))
}

// bodyOf draws a body whose size under the body metric is one of sizes,
// holding as few attribute bytes as it can: %41 escapes under raw (a third
// of the bytes stored), many short pairs under json.
func bodyOf(t *rapid.T, cfg model.Config, sizes []int64) string {
	n := rapid.SampledFrom(sizes).Draw(t, "body-size")
	if cfg.BodyMetric == target.BodyJSON {
		attrs := map[string]string{}
		for i := 1; ; i++ {
			k := fmt.Sprintf("k%d", i)
			attrs[k] = "1"
			if model.JSON(attrs).Max <= n {
				continue
			}
			delete(attrs, k)
			last := fmt.Sprintf("k%d", i-1)
			attrs[last] += strings.Repeat("1", int(n-model.JSON(attrs).Max))
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(attrs)) {
				parts = append(parts, k+"="+attrs[k])
			}
			return strings.Join(parts, "&")
		}
	}
	body := "k="
	for int64(len(body))+3 <= n {
		body += "%41"
	}
	return body + strings.Repeat("A", int(n-int64(len(body))))
}

// name draws the {username} of a request to app role: a listed user in
// any case, percent-encoded or not, a generated name without an account
// (every length class), or an invalid one (too long, bad characters).
// raw is the path segment when it is not the plain escape of name.
func name(t *rapid.T, users []string) (name, raw string) {
	kinds := []string{"listed", "listed-case", "listed-encoded", "generated", "generated-long", "too-long", "bad-chars"}
	if len(users) == 0 {
		kinds = kinds[3:]
	}
	switch rapid.SampledFrom(kinds).Draw(t, "name-kind") {
	case "listed":
		return rapid.SampledFrom(users).Draw(t, "user"), ""
	case "listed-case":
		return caseVariant(t, rapid.SampledFrom(users).Draw(t, "user")), ""
	case "listed-encoded":
		n := rapid.SampledFrom(users).Draw(t, "user")
		return n, percentEncode(t, n)
	case "generated":
		return generated(t, rapid.IntRange(len(generatedPrefix)+1, 24).Draw(t, "name-length")), ""
	case "generated-long":
		return generated(t, 64), ""
	case "too-long":
		return generated(t, rapid.SampledFrom([]int{65, 80}).Draw(t, "name-length")), ""
	}
	bad := rapid.SampledFrom([]string{" ", "!", "é", "@", "+"}).Draw(t, "bad-char")
	return generatedPrefix + "bad" + bad + "name", ""
}

// generated is a made-up name of n characters (n over 64 is invalid).
func generated(t *rapid.T, n int) string {
	rest := rapid.StringOfN(rapid.SampledFrom([]rune("abcdefghijklmnopqrstuvwxyz0123456789_-.")), n-len(generatedPrefix), n-len(generatedPrefix), -1).Draw(t, "generated")
	return generatedPrefix + rest
}

// caseVariant spells name in another case (the same user, UA-NAME-003).
func caseVariant(t *rapid.T, name string) string {
	if rapid.Bool().Draw(t, "upper") {
		return strings.ToUpper(name)
	}
	var b strings.Builder
	for i, r := range name {
		if i%2 == 0 {
			b.WriteString(strings.ToUpper(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// percentEncode escapes some of name's characters as %XX (UA-GEN-007).
func percentEncode(t *rapid.T, name string) string {
	all := rapid.Bool().Draw(t, "encode-all")
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if all || i == 0 {
			fmt.Fprintf(&b, "%%%02X", name[i])
		} else {
			b.WriteByte(name[i])
		}
	}
	return b.String()
}

// other draws a request outside the five operations: a method a user's
// path does not have, a path naming no operation, and (on a disposable
// target only: a faulty server writes every user) a PUT without a username.
func other(t *rapid.T, users []string, disposable bool) (verb, route, body, contentType string) {
	user := url.PathEscape(firstOr(users, generatedPrefix+"x"))
	switch rapid.IntRange(0, 4).Draw(t, "other-shape") {
	case 0:
		return "POST", "/metadata/user/" + user, "nickname=post", formType
	case 1:
		return "PATCH", "/metadata/user/" + user, "nickname=patch", formType
	case 2:
		if disposable {
			return "PUT", "/metadata/user", "nickname=everyone", formType
		}
	case 3:
		return "GET", "/metadata/user/" + user + "/extra", "", ""
	}
	return "GET", "/metadata/nothing-here", "", ""
}

// batchBody draws a batch body: targets of every shape and count (up to
// and over the cap), properties absent, null, empty or listed, and bodies
// that are not what the documents ask for.
func batchBody(t *rapid.T, users []string, limit int) string {
	switch rapid.IntRange(0, 15).Draw(t, "batch-shape") {
	case 1:
		return `{"targets":[` // not JSON
	case 2:
		return `["` + firstOr(users, "x") + `"]` // not an object
	case 3:
		return `{"targets":"` + firstOr(users, "x") + `"}` // not an array
	case 4:
		return `{"targets":[]}`
	case 5:
		return `{"targets":[42]}`
	case 6:
		return `{"properties":["nickname"]}`
	}
	var targets []string
	switch rapid.IntRange(0, 5).Draw(t, "batch-count") {
	case 0:
		n := rapid.SampledFrom([]int{limit - 1, limit, limit + 1}).Draw(t, "batch-edge")
		// The cap counts targets as sent: the last may repeat the first.
		repeat := rapid.Bool().Draw(t, "edge-repeats")
		for len(targets) < n {
			switch {
			case len(targets) == 0 && len(users) > 0:
				targets = append(targets, users[0])
			case repeat && len(targets) == n-1:
				targets = append(targets, targets[0])
			default:
				targets = append(targets, fmt.Sprintf("%s%d", generatedPrefix, len(targets)))
			}
		}
	default:
		for range rapid.IntRange(1, 4).Draw(t, "targets") {
			n, _ := name(t, users)
			targets = append(targets, n)
		}
		if rapid.IntRange(0, 4).Draw(t, "duplicate") == 0 {
			targets = append(targets, targets[0])
		}
	}
	obj := map[string]any{"targets": targets}
	switch rapid.IntRange(0, 6).Draw(t, "properties-kind") {
	case 0:
	case 1:
		obj["properties"] = nil
	case 2:
		obj["properties"] = []string{}
	case 3:
		obj["properties"] = "nickname"
	case 4:
		obj["properties"] = []any{"nickname", 7}
	default:
		props := rapid.SliceOfN(rapid.SampledFrom(append(slices.Clone(keyPool), "absent")), 1, 4).Draw(t, "properties")
		obj["properties"] = props
	}
	if rapid.IntRange(0, 5).Draw(t, "extra-field") == 0 {
		obj["extra"] = true
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

// otherCase is s with the case of its first cased letter turned (s
// itself when it has none).
func otherCase(s string) string {
	for i, r := range s {
		if u := unicode.ToUpper(r); u != r {
			return s[:i] + string(u) + s[i+utf8.RuneLen(r):]
		}
		if l := unicode.ToLower(r); l != r {
			return s[:i] + string(l) + s[i+utf8.RuneLen(r):]
		}
	}
	return s
}

func firstOr(list []string, or string) string {
	if len(list) == 0 {
		return or
	}
	return list[0]
}

// pinned404 reports whether the profile pins the 404 for an admin's
// write to a user without an account: only then can such a write not
// create data.
func pinned404(p profile.Profile) bool {
	return !p.Accepts(profile.PutUnknownUserAsAdmin, "200")
}
