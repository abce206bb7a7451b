package mutant

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/attrconform/attrconform/reference/store"
)

// Defects of attribute keys: the server changes the keys it is given.
func init() {
	register(Mutant{Name: "keys-case-folded", Breaks: []string{"UA-GEN-008"},
		Doc:   "attribute keys are compared case-insensitively (a key column with a case-insensitive collation): Nickname and nickname are one key, stored lower-case",
		Apply: wrapStore(func(s store.Store) store.Store { return foldedKeys{s} })})
	register(Mutant{Name: "avatar-renamed", Breaks: []string{"UA-PUT-010"},
		Doc: "the old client key avatar is stored as avatarurl (a server 'helping' older clients), so a key is not kept as sent",
		Apply: handlerOnly(before(func(r *http.Request) bool { return routeOf(r).user(r, http.MethodPut) }, func(r *http.Request) {
			pairs := parseForm(string(readBody(r)))
			v, has := pairs["avatar"]
			if !has {
				return
			}
			delete(pairs, "avatar")
			if _, both := pairs["avatarurl"]; !both {
				pairs["avatarurl"] = v
			}
			replaceBody(r, []byte(encodeForm(pairs)))
		}))})
}

// foldedKeys lower-cases the keys of every write; of keys that fold
// together, the one sorting last wins.
type foldedKeys struct{ store.Store }

func (f foldedKeys) Commit(app, user string, w store.Write) error {
	folded := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(w.Attrs)) {
		folded[strings.ToLower(k)] = w.Attrs[k]
	}
	w.Attrs, w.Size = folded, jsonSize(folded)
	return f.Store.Commit(app, user, w)
}
