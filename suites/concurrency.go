package suites

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/attrconform/attrconform/framework"
)

// The race is bounded: raceRounds rounds of raceWriters concurrent PUTs;
// the 409-text spec tries up to textRounds rounds to meet one 409.
const (
	raceWriters = 12
	raceRounds  = 5
	textRounds  = 20
)

// raceOutcome is what one writer of a round sent and got.
type raceOutcome struct {
	writer int
	status int
	resp   *Response
	err    error
}

// race releases raceWriters PUTs to one user at once behind a barrier.
// Writer i writes its own keys w{i}a and w{i}b plus the shared key "last".
func race(c Caller, user string) []raceOutcome {
	warmUp(c, user)
	start := make(chan struct{})
	out := make([]raceOutcome, raceWriters)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := Form(fmt.Sprintf("w%da", i), fmt.Sprint(i), fmt.Sprintf("w%db", i), fmt.Sprint(i), "last", fmt.Sprint(i))
			<-start
			r, err := c.Send(http.MethodPut, "/metadata/user/"+user, body, "application/x-www-form-urlencoded")
			out[i] = raceOutcome{writer: i, resp: r, err: err}
			if r != nil {
				out[i].status = r.Status
			}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// warmUp opens raceWriters connections with concurrent reads, so that the
// writers behind the barrier do not spread out while dialling.
func warmUp(c Caller, user string) {
	var wg sync.WaitGroup
	for range raceWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Send(http.MethodGet, "/metadata/user/"+user, "", "")
		}()
	}
	wg.Wait()
}

var _ = Describe("Concurrent updates of one user", Label("race", LabelBurst), Serial, func() {
	var user string
	BeforeEach(func() {
		user = f().User(0).Name
		f().Clear(user)
	})

	It("answers racing PUTs with 200 or 409, keeps every acknowledged write whole and leaves no trace of a refused one", Req("UA-CONC-001", "UA-CONC-003"), func() {
		conflicts := 0
		for round := 1; round <= raceRounds; round++ {
			f().Clear(user)
			deadline := time.Now().Add(30 * time.Second)
			outcomes := race(f().Admin(), user)
			Expect(time.Now().Before(deadline)).To(BeTrue(), "round %d took longer than 30s", round)
			stored := f().Admin().Get(user).Attrs()
			var winners []string
			for _, o := range outcomes {
				if o.err != nil {
					f().Admin().Must(nil, o.err)
				}
				Expect(o.resp).To(HaveStatus(http.StatusOK, http.StatusConflict), "round %d, writer %d", round, o.writer)
				a, b := fmt.Sprintf("w%da", o.writer), fmt.Sprintf("w%db", o.writer)
				if o.status == http.StatusOK {
					winners = append(winners, fmt.Sprint(o.writer))
					Expect(stored).To(HaveKeyWithValue(a, fmt.Sprint(o.writer)), "round %d: lost update: writer %d was acknowledged with 200 but its keys are gone", round, o.writer)
					Expect(stored).To(HaveKeyWithValue(b, fmt.Sprint(o.writer)), "round %d: lost update of writer %d", round, o.writer)
				} else {
					conflicts++
					Expect(stored).NotTo(HaveKey(a), "round %d: torn write: writer %d got 409 but left %s behind", round, o.writer, a)
					Expect(stored).NotTo(HaveKey(b), "round %d: torn write: writer %d got 409 but left %s behind", round, o.writer, b)
				}
			}
			Expect(winners).NotTo(BeEmpty(), "round %d: every writer got 409; at least one must succeed", round)
			Expect(winners).To(ContainElement(stored["last"]), "round %d: the shared key holds the value of an acknowledged writer", round)
			Expect(stored).To(HaveLen(2*len(winners)+1), "round %d: only acknowledged writes are stored", round)
		}
		Note("race", fmt.Sprintf("%d rounds of %d writers: %d answers were 409", raceRounds, raceWriters, conflicts))
		if f().Target.SerialisesWrites {
			Note("race", "the target declares that it serialises writes: a 409 is not required")
			return
		}
		Expect(conflicts).To(BeNumerically(">", 0),
			"%d rounds of %d simultaneous writers to one user produced no 409: the target does not detect concurrent updates (declare serialises_writes: true if it serialises them)", raceRounds, raceWriters)
	})

	It("names the conflict in the 409 text", Req("UA-CONC-002", "UA-ERR-002"), func() {
		if f().Target.SerialisesWrites {
			Skip("the target declares that it serialises writes, so it never answers 409")
		}
		for round := 1; round <= textRounds; round++ {
			f().Clear(user)
			for _, o := range race(f().Admin(), user) {
				if o.err == nil && o.status == http.StatusConflict {
					expectText(o.resp, "Failed to update userMetadata. Concurrent updates not allowed", "update userMetadata failed, concurrent updates not allowed")
					return
				}
			}
		}
		Fail(fmt.Sprintf("no 409 in %d rounds of %d simultaneous writers, so its text cannot be checked", textRounds, raceWriters))
	})

	It("never answers 409 to simultaneous writes to different users", Req("UA-CONC-004"), func() {
		users := []string{f().User(0).Name, f().User(1).Name, f().User(2).Name}
		f().Clear(users...)
		for round := 1; round <= raceRounds; round++ {
			start := make(chan struct{})
			results := make([]*Response, len(users))
			errs := make([]error, len(users))
			var wg sync.WaitGroup
			for i, u := range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = f().Admin().Send(http.MethodPut, "/metadata/user/"+u, Form("round", fmt.Sprint(round)), "application/x-www-form-urlencoded")
				}()
			}
			close(start)
			wg.Wait()
			for i := range users {
				if errs[i] != nil {
					f().Admin().Must(nil, errs[i])
				}
				Expect(results[i]).To(HaveStatus(http.StatusOK), "round %d", round)
			}
		}
	})
})
