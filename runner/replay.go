package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/attrconform/attrconform/proxy"
)

// replayCmd is `runner replay FILE`: the requests of a record file
// (runner proxy --record) sent again to another endpoint, as the same
// principals with its tokens, each answer judged as live traffic is and
// compared with the recorded one.
//
// Exit status: 0 every answer matched, 1 an answer differs, 2 bad input
// or nothing could be sent.
func replayCmd(args []string) int {
	fs := flag.NewFlagSet("runner replay", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: runner replay FILE [--target OTHER | --mutant NAME] [--report-dir DIR]")
		fs.PrintDefaults()
	}
	targetFile := fs.String("target", "", "target file of the endpoint to replay to (its tokens stand in for the recorded principals'); empty starts the bundled reference")
	reportDir := fs.String("report-dir", "", "directory for the reports judging the replayed answers: requirements.json, .md, .html, junit.xml")
	profileName := fs.String("profile", "", "profile overriding the target's: lenient, current or legacy")
	reference := fs.String("reference", refAuto, "without --target, how to run the bundled reference: auto, container or inprocess")
	mutant := fs.String("mutant", "", "without --target, start the bundled reference with this deliberate defect (see internal/mutant)")
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if len(files) != 1 {
		return usageError("replay: want one record file (runner proxy --record FILE), got %d arguments", len(files))
	}
	records, err := proxy.ReadRecords(files[0])
	if err != nil {
		return usageError("replay: %v", err)
	}
	tgt, where, stop, code := judgedTarget("replay", *targetFile, *profileName, *reference, *mutant, *reportDir)
	if code != 0 {
		return code
	}
	defer stop()
	p, err := proxy.New(proxy.Options{Target: tgt, Where: where, Out: stdout, Redactor: secrets})
	if err != nil {
		return usageError("replay: %v", err)
	}
	defer p.Close()
	warnShortSecrets()
	fmt.Fprintf(stdout, "replay: %d recorded exchanges of %s to %s (profile %s)\n", len(records), files[0], where, p.Profile())
	r := p.Replay(records)
	summary, err := p.Summary()
	if err != nil {
		return usageError("replay: %v", err)
	}
	stop()
	if err := writeTrafficReports(summary, *reportDir); err != nil {
		return usageError("replay: %v", err)
	}
	if summary.Failed > 0 {
		fmt.Fprintf(stdout, "the replayed answers violate %d requirements (see the VIOLATION lines and the reports)\n", summary.Failed)
	}
	fmt.Fprintf(stdout, "replayed %d of %d exchanges: %d answers differ, %d not sent\n", r.Sent, len(records), len(r.Differ), len(r.Skipped))
	switch {
	case len(r.Differ) > 0:
		return 1
	case r.Sent == 0 && len(records) > 0:
		return usageError("replay: none of the recorded requests could be sent to %s", where)
	}
	return 0
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`runner replay FILE --target OTHER`), which the
// flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
