package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/netyard/netyard/sim/netns"
)

// runForm is a run's name as netyard ls shows it: ny and the pid of its
// netyard up in base 36 (netns.Prefix).
var runForm = regexp.MustCompile(`^ny[0-9a-z]{1,13}$`)

// listRuns is netns.Runs, replaced in tests.
var listRuns = func() ([]netns.RunInfo, error) {
	runs, _, err := netns.Runs()
	return runs, err
}

// takeRun splits a verb's positional arguments into the run they name
// first, if they do, and the rest. The first argument is the run when it
// has a run's form (ny...) and either the verb takes at most most other
// arguments and got more, or a run of that name is recorded. most < 0:
// the verb's other arguments are link ends (A:IF), which a run's name
// never looks like, so a first argument of the form is the run.
func takeRun(pos []string, most int) (run string, rest []string) {
	if len(pos) == 0 || !runForm.MatchString(pos[0]) {
		return "", pos
	}
	if most < 0 || len(pos) > most {
		return pos[0], pos[1:]
	}
	if runs, err := listRuns(); err == nil {
		for _, r := range runs {
			if r.Prefix == pos[0] {
				return pos[0], pos[1:]
			}
		}
	}
	return "", pos
}

// pickRun returns the running up named run, or with run "" the only one
// that runs. Its errors are sentences for the user.
func pickRun(run string) (netns.RunInfo, error) {
	runs, err := listRuns()
	if err != nil {
		return netns.RunInfo{}, fmt.Errorf("cannot list the runs: %w", err)
	}
	if run != "" {
		for _, r := range runs {
			switch {
			case r.Prefix != run:
			case !r.Alive:
				return r, fmt.Errorf("run %s is dead (netyard cleanup removes what it left)", run)
			case r.API == "":
				return r, fmt.Errorf("run %s serves no API (an older netyard up; it stops with kill %d)", run, r.PID)
			default:
				return r, nil
			}
		}
		return netns.RunInfo{}, fmt.Errorf("no run %s is up (netyard ls shows what runs)", run)
	}
	var alive []netns.RunInfo
	for _, r := range runs {
		if r.Alive {
			alive = append(alive, r)
		}
	}
	switch len(alive) {
	case 0:
		return netns.RunInfo{}, fmt.Errorf("no netyard up is running (netyard up -d FILE starts one)")
	case 1:
		return pickRun(alive[0].Prefix)
	}
	var names []string
	for _, r := range alive {
		names = append(names, r.Prefix+" ("+r.File+")")
	}
	return netns.RunInfo{}, fmt.Errorf("%d netyard ups are running: %s; name one first, as in netyard inspect %s", len(alive), strings.Join(names, ", "), alive[0].Prefix)
}
