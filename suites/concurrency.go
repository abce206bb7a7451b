package suites

import (
	"fmt"
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
)

// racingWrites are the writes of one round to one user: writer i sets its
// own keys w{i}a and w{i}b and the shared key "last".
func racingWrites(user string, writers int) []Request {
	reqs := make([]Request, writers)
	for i := range reqs {
		reqs[i] = Request{Method: http.MethodPut, Path: "/metadata/user/" + user, ContentType: "application/x-www-form-urlencoded",
			Body: Form(fmt.Sprintf("w%da", i), fmt.Sprint(i), fmt.Sprintf("w%db", i), fmt.Sprint(i), "last", fmt.Sprint(i))}
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
	n := min(RaceWriters, int(f().Target.Budget()))
	if n < 2 {
		Skip(fmt.Sprintf("request_budget %.0f/s lets fewer than 2 writes leave at once; a race needs 2", f().Target.Budget()))
	}
	return n
}

// expectAnswered fails the spec (ERROR) for a writer whose request did not
// get through, and returns its response.
func expectAnswered(o Outcome) *Response {
	GinkgoHelper()
	return f().Admin().Must(o.Response, o.Err)
}

// notObservedUnlessSerialised ends a race spec that saw no 409: a pass
// when the target declares that it serialises writes, else NOT OBSERVED
// with the numbers (a short window is no fault).
func notObservedUnlessSerialised(race *Race, what string) {
	GinkgoHelper()
	if f().Target.SerialisesWrites {
		Note("race", "the target declares that it serialises writes: a 409 is not required")
		return
	}
	NotObserved("%s: %s, and nothing was lost; the target's window between reading and committing may be shorter than the spread (declare serialises_writes: true if it never answers 409)", what, race)
}

var _ = Describe("Concurrent updates of one user", Label("race", LabelBurst), Serial, func() {
	var user string
	BeforeEach(func() {
		user = f().User(0).Name
		f().Clear(user)
	})

	It("answers racing PUTs with 200 or 409, keeps every acknowledged write whole and leaves no trace of a refused one", Req("UA-CONC-001", "UA-CONC-003"), func() {
		writers := raceWriters()
		race := NewRace(writers)
		stale := &Staleness{}
		DeferCleanup(func() {
			Note("race", race.String())
			if f().Clustered() {
				Note("staleness", stale.String())
			}
		})
		for race.More() {
			n := race.Rounds() + 1
			f().Clear(user)
			// The writers are spread over the target's nodes, and the round is
			// read back on the nodes in turn.
			round := f().Admin().Spread().Together(racingWrites(user, writers))
			race.Record(round, round.Answered(http.StatusConflict) > 0)
			acked := make([]bool, len(round.Outcomes))
			for i, o := range round.Outcomes {
				r := expectAnswered(o)
				Expect(r).To(HaveStatus(http.StatusOK, http.StatusConflict), "round %d, writer %d", n, i)
				acked[i] = r.Status == http.StatusOK
			}
			reader := f().Admin().On(n)
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

	It("names the conflict in the 409 text", Req("UA-CONC-002", "UA-ERR-002"), func() {
		if f().Target.SerialisesWrites {
			Skip("the target declares that it serialises writes, so it never answers 409")
		}
		writers := raceWriters()
		race := NewRace(writers)
		for race.More() {
			f().Clear(user)
			round := f().Admin().Spread().Together(racingWrites(user, writers))
			race.Record(round, round.Answered(http.StatusConflict) > 0)
			for _, o := range round.Outcomes {
				expectAnswered(o)
			}
			if i := slices.IndexFunc(round.Outcomes, func(o Outcome) bool { return o.Status == http.StatusConflict }); i >= 0 {
				Note("race", race.String())
				expectText(round.Outcomes[i].Response, "Failed to update userMetadata. Concurrent updates not allowed", "update userMetadata failed, concurrent updates not allowed")
				return
			}
		}
		NotObserved("no 409 to read the text of: %s", race)
	})

	It("never answers 409 to simultaneous writes to different users", Req("UA-CONC-004"), func() {
		users := []string{f().User(0).Name, f().User(1).Name, f().User(2).Name}
		f().Clear(users...)
		race := NewRace(len(users))
		for round := 1; round <= 5; round++ {
			reqs := make([]Request, len(users))
			for i, u := range users {
				reqs[i] = Request{Method: http.MethodPut, Path: "/metadata/user/" + u, Body: Form("round", fmt.Sprint(round)), ContentType: "application/x-www-form-urlencoded"}
			}
			r := f().Admin().Spread().Together(reqs)
			for i, o := range r.Outcomes {
				Expect(expectAnswered(o)).To(HaveStatus(http.StatusOK), "round %d: the write to %s conflicted with writes to other users", round, users[i])
			}
			race.Record(r, false)
		}
		Note("race", race.String())
	})
})
