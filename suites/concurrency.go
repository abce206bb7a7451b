package suites

import (
	"fmt"
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/model"
)

// racingWrites are the writes of one round to one user: writer i sets its
// own keys w{i}a and w{i}b and the shared key "last".
func racingWrites(user string, writers int) []framework.Request {
	reqs := make([]framework.Request, writers)
	for i := range reqs {
		reqs[i] = framework.Request{Method: http.MethodPut, Path: "/metadata/user/" + user, ContentType: "application/x-www-form-urlencoded",
			Body: framework.Form(fmt.Sprintf("w%da", i), fmt.Sprint(i), fmt.Sprintf("w%db", i), fmt.Sprint(i), "last", fmt.Sprint(i))}
	}
	return reqs
}

// showsWriters reports whether attrs hold the keys of every acknowledged
// writer of a round (what a node that is not behind shows).
func showsWriters(attrs map[string]string, acked []bool) bool {
	for i, ok := range acked {
		if ok && (attrs[fmt.Sprintf("w%da", i)] != fmt.Sprint(i) || attrs[fmt.Sprintf("w%db", i)] != fmt.Sprint(i)) {
			return false
		}
	}
	return true
}

// raceWriters is how many writers a round has: RaceWriters, or fewer when
// the target's request budget cannot let that many leave at once.
func raceWriters() int {
	GinkgoHelper()
	n := min(framework.RaceWriters, int(env().Target.Budget()))
	if n < 2 {
		Skip(fmt.Sprintf("request_budget %.0f/s lets fewer than 2 writes leave at once; a race needs 2", env().Target.Budget()))
	}
	return n
}

// expectAnswered fails the spec (ERROR) for a writer whose request did not
// get through, and returns its response.
func expectAnswered(o framework.Outcome) *framework.Response {
	GinkgoHelper()
	return env().Admin().Must(o.Response, o.Err)
}

// notObservedUnlessSerialised ends a race spec that saw no 409: a pass
// when the target declares that it serialises writes, else NOT OBSERVED
// with the numbers (a short window is no fault).
func notObservedUnlessSerialised(race *framework.Race, what string) {
	GinkgoHelper()
	if env().Target.SerialisesWrites {
		framework.Note("race", "the target declares that it serialises writes: a 409 is not required")
		return
	}
	framework.NotObserved("%s: %s, and nothing was lost; the target's window between reading and committing may be shorter than the spread (declare serialises_writes: true if it never answers 409)", what, race)
}

var _ = Describe("Concurrent updates of one user", Label("race", framework.LabelBurst), Serial, func() {
	var user string
	BeforeEach(func() {
		user = env().User(0).Name
		env().Clear(user)
	})

	It("answers racing PUTs with 200 or 409, keeps every acknowledged write whole and leaves no trace of a refused one", framework.Req("UA-CONC-001", "UA-CONC-003"), func() {
		writers := raceWriters()
		race := framework.NewRace(writers)
		stale := &framework.Staleness{}
		DeferCleanup(func() {
			framework.Note("race", race.String())
			if env().Clustered() {
				framework.Note("staleness", stale.String())
			}
		})
		for race.More() {
			n := race.Rounds() + 1
			env().Clear(user)
			// The writers are spread over the target's nodes, and the round is
			// read back on the nodes in turn.
			round := env().Admin().Spread().Together(racingWrites(user, writers))
			race.Record(round, round.Answered(http.StatusConflict) > 0)
			acked := make([]bool, len(round.Outcomes))
			for i, o := range round.Outcomes {
				r := expectAnswered(o)
				Expect(r).To(framework.HaveStatus(http.StatusOK, http.StatusConflict), "round %d, writer %d", n, i)
				acked[i] = r.Status == http.StatusOK
			}
			reader := env().Admin().On(n)
			stored := stale.Read(reader, user, func(attrs map[string]string) bool { return showsWriters(attrs, acked) })
			var winners []string
			for i, o := range round.Outcomes {
				a, b := fmt.Sprintf("w%da", i), fmt.Sprintf("w%db", i)
				if acked[i] {
					winners = append(winners, fmt.Sprint(i))
					Expect(stored).To(HaveKeyWithValue(a, fmt.Sprint(i)), "round %d: lost update: writer %d was acknowledged with 200 (%s) but its keys are gone from the read on %s", n, i, o.Response, reader.Node())
					Expect(stored).To(HaveKeyWithValue(b, fmt.Sprint(i)), "round %d: lost update: writer %d was acknowledged with 200 (%s) but its keys are gone from the read on %s", n, i, o.Response, reader.Node())
				} else {
					Expect(stored).NotTo(HaveKey(a), "round %d: torn write: writer %d got 409 (%s) but left %s behind (read on %s)", n, i, o.Response, a, reader.Node())
					Expect(stored).NotTo(HaveKey(b), "round %d: torn write: writer %d got 409 (%s) but left %s behind (read on %s)", n, i, o.Response, b, reader.Node())
				}
			}
			Expect(winners).NotTo(BeEmpty(), "round %d: every writer got 409; at least one must succeed", n)
			Expect(winners).To(ContainElement(stored["last"]), "round %d: the shared key holds the value of an acknowledged writer", n)
			Expect(stored).To(HaveLen(2*len(winners)+1), "round %d: only acknowledged writes are stored", n)
		}
		if race.Collisions() == 0 {
			notObservedUnlessSerialised(race, "no two writers collided")
		}
	})

	It("names the conflict in the 409 text", framework.Req("UA-CONC-002", "UA-ERR-002"), func() {
		if env().Target.SerialisesWrites {
			Skip("the target declares that it serialises writes, so it never answers 409")
		}
		writers := raceWriters()
		race := framework.NewRace(writers)
		for race.More() {
			env().Clear(user)
			round := env().Admin().Spread().Together(racingWrites(user, writers))
			race.Record(round, round.Answered(http.StatusConflict) > 0)
			for _, o := range round.Outcomes {
				expectAnswered(o)
			}
			if i := slices.IndexFunc(round.Outcomes, func(o framework.Outcome) bool { return o.Status == http.StatusConflict }); i >= 0 {
				framework.Note("race", race.String())
				expectText(round.Outcomes[i].Response, model.ErrConflict, nil)
				return
			}
		}
		framework.NotObserved("no 409 to read the text of: %s", race)
	})

	It("never answers 409 to simultaneous writes to different users", framework.Req("UA-CONC-004"), func() {
		users := []string{env().User(0).Name, env().User(1).Name, env().User(2).Name}
		env().Clear(users...)
		race := framework.NewRace(len(users))
		for round := 1; round <= 5; round++ {
			reqs := make([]framework.Request, len(users))
			for i, u := range users {
				reqs[i] = framework.Request{Method: http.MethodPut, Path: "/metadata/user/" + u, Body: framework.Form("round", fmt.Sprint(round)), ContentType: "application/x-www-form-urlencoded"}
			}
			r := env().Admin().Spread().Together(reqs)
			for i, o := range r.Outcomes {
				Expect(expectAnswered(o)).To(framework.HaveStatus(http.StatusOK), "round %d: the write to %s conflicted with writes to other users", round, users[i])
			}
			race.Record(r, false)
		}
		framework.Note("race", race.String())
	})
})
