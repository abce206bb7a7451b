package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/attrconform/attrconform/internal/bundled"
)

// exploreTime bounds one timed exploration.
const exploreTime = 10 * time.Second

// Floors of the exploration's pace, in generated requests per second: at
// these an in-run exploration of a second or two still reaches the
// model's corners, and runner explore's default 30 s makes thousands of
// requests.
const (
	floorLifted = 300
	floorVendor = 100
)

// exploreFigures times runner explore (the built binary, seed 1): the
// generated requests per second against the in-process reference, whose
// limits the exploration lifts, and against the bundled reference at the
// vendor's 100 requests/s per app and operation and its 10 ms race
// window, as a live target (--target, --exclusive).
func exploreFigures(runs int) ([]figure, error) {
	root, dir, bin, err := workspace("attrconform-bench-explore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var free, limited []float64
	for i := range runs {
		perSecond, err := timedExploration(root, bin, filepath.Join(dir, fmt.Sprint("free-", i)), "--reference", "inprocess")
		if err != nil {
			return nil, err
		}
		free = append(free, perSecond)

		tgt, srv, err := bundled.StartTarget(bundled.Options{})
		if err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(tgt)
		file := filepath.Join(dir, fmt.Sprint("vendor-", i, ".yaml"))
		if err == nil {
			err = os.WriteFile(file, data, 0o600)
		}
		if err == nil {
			perSecond, err = timedExploration(root, bin, filepath.Join(dir, fmt.Sprint("vendor-", i)), "--target", file, "--exclusive")
		}
		srv.Close()
		if err != nil {
			return nil, err
		}
		limited = append(limited, perSecond)
	}
	figures := []figure{
		{name: "exploration, in-process reference (limits lifted): generated requests/s", value: median(free), unit: "/s",
			target: floorLifted, atLeast: true, targeted: true, detail: fmt.Sprintf("per run %s; seed 1, %v each", list(free, "%.0f"), exploreTime)},
		{name: "exploration at 100 requests/s per app and operation: generated requests/s", value: median(limited), unit: "/s",
			target: floorVendor, atLeast: true, targeted: true,
			detail: fmt.Sprintf("per run %s; the bundled reference as a live target (10 ms race window), --exclusive", list(limited, "%.0f"))},
	}
	for _, f := range figures {
		fmt.Printf("  %-62s %s\n", f.name, f.format(f.value))
	}
	return figures, nil
}

// explored is runner explore's closing count: "explore: seed N: S
// sequences, G generated requests (R in all) in D".
var explored = regexp.MustCompile(`explore: seed \d+: \d+ sequences, (\d+) generated requests \(\d+ in all\) in (\S+)`)

// timedExploration runs the runner's explore for exploreTime with the
// given flags and returns its generated requests per second.
func timedExploration(root, bin, reports string, flags ...string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), exploreTime+2*time.Minute)
	defer cancel()
	args := append([]string{"explore", "--seed", "1", "--steps", "1000000", "--time", exploreTime.String(), "--report-dir", reports}, flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("runner %v: %v\n%s", args, err, lastLines(string(out), 15))
	}
	m := explored.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("runner %v printed no count of its requests:\n%s", args, lastLines(string(out), 15))
	}
	steps, _ := strconv.Atoi(string(m[1]))
	elapsed, err := time.ParseDuration(string(m[2]))
	if err != nil || elapsed <= 0 {
		return 0, fmt.Errorf("runner %v: the exploration's time %q", args, m[2])
	}
	return float64(steps) / elapsed.Seconds(), nil
}
