package suites

import (
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
)

// A deployment of several nodes over one store must look like one server:
// what one node acknowledged, every node shows (after at most
// StaleWindow; the delay is reported, not judged), and every node counts
// the same capacity once writes stop. These specs need a target that lists
// its nodes; the race specs (concurrency.go) spread their writers over
// the nodes too.
var _ = Describe("A deployment of several nodes", Label("cluster"), Serial, func() {
	It("shows a write acknowledged by one node on every other node", framework.Req("UA-GET-001"), func() {
		nodes := env().NeedNodes(2)
		user := env().User(0).Name
		env().Clear(user)
		stale := &framework.Staleness{}
		DeferCleanup(func() { framework.Note("staleness", stale.String()) })
		// Every node has read the user before: a node that answers from
		// what it read earlier shows itself below.
		for i := range nodes {
			Expect(env().Admin().On(i).Get(user)).To(framework.HaveStatus(http.StatusOK))
		}
		for w := range nodes {
			writer := env().Admin().On(w)
			value := fmt.Sprintf("written-on-node-%d", w)
			Expect(writer.Put(user, framework.Form("nickname", value))).To(framework.HaveStatus(http.StatusOK))
			for r := range nodes {
				if r == w {
					continue
				}
				reader := env().Admin().On(r)
				got := stale.Read(reader, user, func(attrs map[string]string) bool { return attrs["nickname"] == value })
				Expect(got).To(HaveKeyWithValue("nickname", value), "%s acknowledged nickname=%s with 200, but %s still answers %v after %s", writer.Node(), value, reader.Node(), got, framework.StaleWindow)
			}
		}
	})

	It("answers the same capacity on every node once writes stop, following writes and deletes made on any node", framework.Req("UA-CAP-004", "UA-CAP-003"), func() {
		nodes := env().NeedNodes(2)
		var users []string
		for i := range min(nodes, 3) {
			users = append(users, env().User(i).Name)
		}
		env().Clear(users...)
		stale := &framework.Staleness{}
		DeferCleanup(func() { framework.Note("staleness", stale.String()) })
		admin := env().Admin()
		before := stale.Capacities(admin)
		Expect(before).To(HaveEach(before[0]), "capacity differs between the nodes %v after %s without writes", env().Nodes(), framework.StaleWindow)
		attrs := map[string]string{"nickname": "capacity_on_every_node", "ext": framework.Value(60)}
		for i, u := range users {
			Expect(admin.On(i).Put(u, framework.FormOf(attrs))).To(framework.HaveStatus(http.StatusOK))
		}
		during := stale.Capacities(admin)
		Expect(during).To(HaveEach(during[0]), "capacity differs between the nodes %v %s after writes on each of them stopped", env().Nodes(), framework.StaleWindow)
		Expect(during[0]).To(BeNumerically(">", before[0]), "capacity must grow after writes")
		if m := env().Metric(); m != "" {
			Expect(during[0]-before[0]).To(Equal(int64(len(users))*framework.Size(m, attrs)), "under size_metric %s the capacity grows by the users' sizes", m)
		}
		for i, u := range users {
			Expect(admin.On(i + 1).Delete(u)).To(framework.HaveStatus(http.StatusOK)) // on another node than the write
		}
		after := stale.Capacities(admin)
		Expect(after).To(HaveEach(before[0]), "after deleting on other nodes, every node of %v must be back at the start value %d", env().Nodes(), before[0])
	})
})
