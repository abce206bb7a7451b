package explore

import (
	"slices"

	"github.com/attrconform/attrconform/model"
)

// Group is a mix of requests aimed at one group of requirements: the
// bounded exploration of the default run spends a little on each.
type Group struct {
	Name string
	// Ops are the operations drawn, each as often as it is listed.
	Ops []model.Op
	// Apps are the app roles explored besides the main app: extra apps
	// of the target (second, small_quota, disabled) and model.NoSuchApp.
	Apps []string
	// OddPrincipal, OddName and Sized say how often, in ten requests, a
	// request takes a token other than the app's admin token, a name
	// other than a listed user's, and a PUT body landing on a limit.
	OddPrincipal, OddName, Sized int
}

const (
	put, get, batch, capacity, del = model.Put, model.Get, model.Batch, model.Capacity, model.Delete
)

// The groups, one per concern of the specs' labels, and All.
var (
	Write     = Group{Name: "write", Ops: []model.Op{get, put, put, put, put, del, batch}, Apps: []string{"second"}, OddPrincipal: 2, OddName: 2, Sized: 1}
	Read      = Group{Name: "read", Ops: []model.Op{get, get, get, put, put, del, batch}, Apps: []string{"second"}, OddPrincipal: 3, OddName: 3}
	BatchG    = Group{Name: "batch", Ops: []model.Op{batch, batch, batch, batch, put, put, get}, OddPrincipal: 2, OddName: 3}
	DeleteG   = Group{Name: "delete", Ops: []model.Op{get, del, del, put, put, capacity}, OddPrincipal: 3, OddName: 3}
	CapacityG = Group{Name: "capacity", Ops: []model.Op{capacity, capacity, put, put, del, get}, Apps: []string{"small_quota"}, OddPrincipal: 2, OddName: 1, Sized: 3}
	Auth      = Group{Name: "auth", Ops: []model.Op{get, put, batch, capacity, del}, Apps: []string{"second", "disabled"}, OddPrincipal: 8, OddName: 3}
	Limits    = Group{Name: "limits", Ops: []model.Op{get, put, put, put, put, capacity, del}, Apps: []string{"small_quota"}, OddPrincipal: 1, OddName: 1, Sized: 6}
	Names     = Group{Name: "names", Ops: []model.Op{get, put, put, del, batch}, OddPrincipal: 2, OddName: 8}
	Envelope  = Group{Name: "envelope", Ops: []model.Op{get, put, batch, capacity, del, model.Other}, Apps: []string{"second", "disabled", model.NoSuchApp}, OddPrincipal: 3, OddName: 3, Sized: 1}
	All       = Group{Name: "all", Ops: []model.Op{get, put, put, batch, capacity, del, model.Other}, Apps: []string{"second", "small_quota", "disabled", model.NoSuchApp}, OddPrincipal: 3, OddName: 3, Sized: 2}
)

// Groups lists the groups of the requirement concerns, then All.
var Groups = []Group{Write, Read, BatchG, DeleteG, CapacityG, Auth, Limits, Names, Envelope, All}

// GroupNamed finds a group by name.
func GroupNamed(name string) (Group, bool) {
	i := slices.IndexFunc(Groups, func(g Group) bool { return g.Name == name })
	if i < 0 {
		return Group{}, false
	}
	return Groups[i], true
}
