package suites

import (
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/attrconform/attrconform/explore"
	"github.com/attrconform/attrconform/framework"
	"github.com/attrconform/attrconform/history"
)

// Concurrent histories (package history): clients race generated
// operations at a few listed users, behind a barrier, their share of the
// budget taken ahead; each history is checked for linearizability
// against the model of the documents. A couple of seconds at most; like
// the other race specs, opt-in for live targets (burst).
const (
	historyTime   = time.Second
	historyRounds = 10
)

var _ = Describe("Concurrent histories judged by the model of the documents", Label("race", framework.LabelBurst), Ordered, Serial, func() {
	// One recording serves the three specs; whichever runs first makes it.
	var res *history.Result
	var runErr error
	recorded := func() history.Result {
		GinkgoHelper()
		if res == nil {
			seed := explore.NewSeed()
			// GinkgoWriter reaches the terminal under -v past the runner's
			// redacting writer: redact here.
			log := env().Redactor.Writer(GinkgoWriter)
			fmt.Fprintf(log, "history seed %d\n", seed)
			r, err := history.Run(history.Options{Env: env(), Seed: seed, Time: historyTime, Rounds: historyRounds,
				Exclusive: env().Disposable, Dir: env().ReportDir, Log: log})
			res, runErr = &r, err
		}
		switch {
		case errors.Is(runErr, history.ErrBudgetTooSmall):
			Skip(runErr.Error())
		case runErr != nil:
			framework.HarnessError(runErr.Error())
		}
		return *res
	}
	judge := func(v history.Verdict) {
		GinkgoHelper()
		switch {
		case v.Failed:
			if v.Artifact != "" {
				env().Attach(v.Artifact)
			}
			Fail(v.Text)
		case !v.Observed:
			framework.NotObserved("%s", v.Text)
		}
		framework.Note("histories", v.Text)
	}

	It("are linearizable: some order of the operations, each within its interval, has every answer allowed", framework.Req("UA-CONC-001", "UA-CONC-003"), func() {
		judge(recorded().Race())
	})

	It("answer 409 only while another write to the same user is in flight", framework.Req("UA-CONC-004"), func() {
		judge(recorded().Separate())
	})

	It("read the capacity as the sum of the data while traffic is quiet, before and after each burst", framework.Req("UA-CAP-003", "UA-CAP-004"), func() {
		judge(recorded().CapacityVerdict())
	})
})
