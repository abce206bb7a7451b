package attrconform_test

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"mvdan.cc/sh/v3/syntax"
)

// The documentation and the comments name only paths that exist and
// commands that run: a path that moved, a flag that was renamed or a make
// target that went away fails here, not in a reader's terminal.

// repo is the set of files git tracks (or would track) and their
// directories, as paths relative to the repository root.
type repo struct {
	files, dirs map[string]bool
	dirNames    map[string]bool // base names of the directories
}

func loadRepo(t *testing.T) repo {
	t.Helper()
	out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	r := repo{files: map[string]bool{}, dirs: map[string]bool{".": true}, dirNames: map[string]bool{}}
	for _, f := range strings.Fields(string(out)) {
		if _, err := os.Stat(f); err != nil {
			continue // deleted in the work tree, not yet in the index
		}
		r.files[f] = true
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			r.dirs[d] = true
			r.dirNames[path.Base(d)] = true
		}
	}
	return r
}

func (r repo) exists(p string) bool {
	p = path.Clean(p)
	if strings.ContainsAny(p, "*?[") {
		for f := range r.files {
			if ok, _ := path.Match(p, f); ok {
				return true
			}
		}
		return false
	}
	return r.files[p] || r.dirs[p]
}

// resolves reports whether p names a path from the repository root or
// from the directory of the file that names it, or one of its parents.
func (r repo) resolves(p, from string) bool {
	for dir := path.Dir(from); ; dir = path.Dir(dir) {
		if r.exists(path.Join(dir, p)) {
			return true
		}
		if dir == "." {
			return false
		}
	}
}

// texts are the places that name paths: every Go comment, README.md,
// CONTRIBUTING.md, BENCHMARKS.md, docs/, the Makefile and .ci/.
func (r repo) texts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for f := range r.files {
		switch {
		case strings.HasSuffix(f, ".go"):
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ParseComments)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var b strings.Builder
			for _, c := range parsed.Comments {
				b.WriteString(c.Text())
			}
			out[f] = b.String()
		case slices.Contains([]string{"README.md", "CONTRIBUTING.md", "BENCHMARKS.md", "Makefile"}, f),
			strings.HasPrefix(f, "docs/"), strings.HasPrefix(f, ".ci/"):
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = string(data)
		}
	}
	return out
}

var (
	urlRE      = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^\s)>\]"'` + "`" + `]*`)
	pathRE     = regexp.MustCompile(`[A-Za-z0-9_.*-]+(?:/[A-Za-z0-9_.*-]+)*/?`)
	mdLinkRE   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	goFileRE   = regexp.MustCompile(`^[A-Za-z0-9_]+\.go$`)
	flagNameRE = regexp.MustCompile(`(?m)^\s+-([A-Za-z0-9][\w-]*)`)

	makeVarRE    = regexp.MustCompile(`^([A-Z_]+)\s*[?:]?=`)
	makeTargetRE = regexp.MustCompile(`^([a-z][\w.-]*)\s*:`)
	subcommandRE = regexp.MustCompile(`^[a-z][a-z-]*$`)
)

// pathsIn lists the words of text that name a repository path: words with
// a slash whose first element is the name of a directory of the
// repository, Go file names, and the targets of Markdown links.
func (r repo) pathsIn(file, text string) []string {
	text = urlRE.ReplaceAllString(text, " ")
	var out []string
	if strings.HasSuffix(file, ".md") {
		for _, m := range mdLinkRE.FindAllStringSubmatch(text, -1) {
			if link, _, _ := strings.Cut(m[1], "#"); link != "" {
				out = append(out, link)
			}
		}
	}
	for _, w := range pathRE.FindAllString(text, -1) {
		w = strings.TrimPrefix(strings.TrimRight(w, "."), "./")
		w = strings.TrimSuffix(w, "/...")
		first, _, slash := strings.Cut(w, "/")
		if (slash && r.dirNames[first]) || goFileRE.MatchString(w) {
			out = append(out, w)
		}
	}
	return out
}

// slug is the anchor GitHub gives a Markdown heading.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Links to a heading of a Markdown file (file.md#heading, #heading) name
// one that exists.
func TestDocumentedAnchorsExist(t *testing.T) {
	r := loadRepo(t)
	anchors := map[string]map[string]bool{} // file -> slugs of its headings
	for f := range r.files {
		if !strings.HasSuffix(f, ".md") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		anchors[f] = map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			if h := strings.TrimLeft(line, "#"); h != line && strings.HasPrefix(h, " ") {
				anchors[f][slug(h)] = true
			}
		}
	}
	for f := range anchors {
		data, _ := os.ReadFile(f)
		for _, m := range mdLinkRE.FindAllStringSubmatch(string(data), -1) {
			link, frag, ok := strings.Cut(m[1], "#")
			if !ok || strings.Contains(link, "://") {
				continue
			}
			target := f
			if link != "" {
				target = path.Clean(path.Join(path.Dir(f), link))
			}
			if heads, known := anchors[target]; known && !heads[frag] {
				t.Errorf("%s links to %s#%s: no such heading", f, target, frag)
			}
		}
	}
}

func TestDocumentedPathsExist(t *testing.T) {
	r := loadRepo(t)
	texts := r.texts(t)
	if len(texts) < 50 || texts["README.md"] == "" {
		t.Fatalf("found %d texts to check, README.md among them: %v; is this the repository root?", len(texts), texts["README.md"] != "")
	}
	for file, text := range texts {
		missing := map[string]bool{}
		for _, p := range r.pathsIn(file, text) {
			if !missing[p] && !r.resolves(p, file) {
				missing[p] = true
				t.Errorf("%s names %s, which does not exist", file, p)
			}
		}
	}
}

// A command of a shell block: its words, and where it was found.
type shellCommand struct {
	where string
	args  []string // a word that is not a literal (an expansion) is ""
}

// shellBlock is shell code and the line of the file before its first.
type shellBlock struct {
	file string
	line int
	text string
}

// shellBlocks are the shell code of README.md, CONTRIBUTING.md and docs/
// (fenced blocks marked sh, bash, shell or console), of .ci/ and of the
// Makefile's recipes, where $(GO) is the go command.
func shellBlocks(t *testing.T, r repo) []shellBlock {
	t.Helper()
	var out []shellBlock
	for f := range r.files {
		data, err := os.ReadFile(f)
		switch {
		case err != nil:
			t.Fatal(err)
		case strings.HasSuffix(f, ".md") && (f == "README.md" || f == "CONTRIBUTING.md" || strings.HasPrefix(f, "docs/")):
			var b *shellBlock
			for n, line := range strings.Split(string(data), "\n") {
				fence := strings.TrimSpace(line)
				switch {
				case b == nil && strings.HasPrefix(fence, "```") && slices.Contains([]string{"sh", "bash", "shell", "console"}, strings.TrimPrefix(fence, "```")):
					b = &shellBlock{file: f, line: n + 1}
				case b != nil && fence == "```":
					out = append(out, *b)
					b = nil
				case b != nil:
					b.text += line + "\n"
				}
			}
		case strings.HasPrefix(f, ".ci/"):
			out = append(out, shellBlock{file: f, text: string(data)})
		case f == "Makefile":
			for n, line := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(line, "\t") && strings.Contains(line, "$(GO) ") {
					recipe := strings.TrimPrefix(strings.TrimLeft(line, "\t"), "@")
					out = append(out, shellBlock{file: f, line: n, text: strings.ReplaceAll(recipe, "$(GO) ", "go ")})
				}
			}
		}
	}
	return out
}

func shellCommands(t *testing.T, b shellBlock) []shellCommand {
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader(b.text), b.file)
	if err != nil {
		t.Errorf("%s:%d: not shell: %v", b.file, b.line, err)
		return nil
	}
	var out []shellCommand
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		c := shellCommand{where: fmt.Sprintf("%s:%d", b.file, b.line+int(call.Pos().Line()))}
		for _, w := range call.Args {
			c.args = append(c.args, literal(w))
		}
		out = append(out, c)
		return true
	})
	return out
}

// literal is the value of a word made of literals and quotes only, else "".
func literal(w *syntax.Word) string {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return ""
				}
				b.WriteString(lit.Value)
			}
		default:
			return ""
		}
	}
	return b.String()
}

func TestDocumentedCommandsRun(t *testing.T) {
	r := loadRepo(t)
	mk := loadMakefile(t)
	var runs []goRun
	checked := 0
	for _, b := range shellBlocks(t, r) {
		for _, c := range shellCommands(t, b) {
			switch {
			case len(c.args) >= 2 && c.args[0] == "go" && c.args[1] == "run":
				checked++
				if g, ok := parseGoRun(t, r, c); ok {
					runs = append(runs, g)
				}
			case c.args[0] == "make":
				checked++
				mk.check(t, c)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d go run and make commands; the documents hold more: is the block parser broken?", checked)
	}
	bins := buildCommands(t, runs)
	flags := map[string]map[string]bool{} // binary and subcommand -> flag names
	for _, g := range runs {
		bin := bins[g.tags][g.pkg]
		if bin == "" {
			continue
		}
		key := bin + " " + g.sub
		if flags[key] == nil {
			known, err := flagsOf(bin, g.sub)
			if err != nil {
				t.Errorf("%s: go run %s %s: %v", g.where, g.pkg, g.sub, err)
				continue
			}
			flags[key] = known
		}
		for _, f := range g.flags {
			if !flags[key][f] && f != "h" && f != "help" {
				t.Errorf("%s: go run %s %s: unknown flag -%s", g.where, g.pkg, g.sub, f)
			}
		}
	}
}

// makefile holds the Makefile's targets and variables.
type makefile struct{ targets, vars map[string]bool }

func loadMakefile(t *testing.T) makefile {
	t.Helper()
	data, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := makefile{targets: map[string]bool{}, vars: map[string]bool{}}
	for _, line := range strings.Split(string(data), "\n") {
		if v := makeVarRE.FindStringSubmatch(line); v != nil {
			m.vars[v[1]] = true
		} else if tg := makeTargetRE.FindStringSubmatch(line); tg != nil {
			m.targets[tg[1]] = true
		}
	}
	return m
}

func (m makefile) check(t *testing.T, c shellCommand) {
	t.Helper()
	for _, a := range c.args[1:] {
		name, _, assign := strings.Cut(a, "=")
		switch {
		case assign && !m.vars[name]:
			t.Errorf("%s: make %s: the Makefile has no variable %s", c.where, a, name)
		case !assign && !m.targets[a]:
			t.Errorf("%s: make %s: the Makefile has no target %s", c.where, a, a)
		}
	}
}

// goRun is a `go run ./pkg [sub] -flags...` of the documents.
type goRun struct {
	where, pkg, tags, sub string
	flags                 []string // names, without dashes or values
}

func parseGoRun(t *testing.T, r repo, c shellCommand) (goRun, bool) {
	t.Helper()
	g := goRun{where: c.where}
	args := c.args[2:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "-tags" && len(args) > 1:
			g.tags, args = args[1], args[2:]
		case strings.HasPrefix(args[0], "-tags="):
			g.tags, args = strings.TrimPrefix(args[0], "-tags="), args[1:]
		default:
			t.Errorf("%s: go run %s: a go run flag this test does not know", c.where, args[0])
			return g, false
		}
	}
	if len(args) == 0 {
		t.Errorf("%s: go run without a package", c.where)
		return g, false
	}
	g.pkg, args = args[0], args[1:]
	switch {
	case !strings.HasPrefix(g.pkg, "./"):
		if !strings.Contains(g.pkg, "@") {
			t.Errorf("%s: go run %s: a command outside the repository needs a version (@vX.Y.Z)", c.where, g.pkg)
		}
		return g, false
	case !r.dirs[path.Clean(g.pkg)]:
		t.Errorf("%s: go run %s: no such package", c.where, g.pkg)
		return g, false
	}
	if len(args) > 0 && subcommandRE.MatchString(args[0]) {
		g.sub, args = args[0], args[1:]
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" && a != "--" {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			g.flags = append(g.flags, name)
		}
	}
	return g, len(g.flags) > 0 // without flags, nothing to check but that it builds, which other tests see to
}

// buildCommands builds the packages of runs, one go build per set of
// tags: tags -> package -> binary.
func buildCommands(t *testing.T, runs []goRun) map[string]map[string]string {
	t.Helper()
	pkgs := map[string][]string{}
	for _, g := range runs {
		if !slices.Contains(pkgs[g.tags], g.pkg) {
			pkgs[g.tags] = append(pkgs[g.tags], g.pkg)
		}
	}
	out := map[string]map[string]string{}
	for tags, list := range pkgs {
		dir := t.TempDir()
		build := exec.Command("go", append([]string{"build", "-tags", tags, "-o", dir + string(filepath.Separator)}, list...)...)
		if msg, err := build.CombinedOutput(); err != nil {
			t.Errorf("go build -tags %q %s: %v\n%s", tags, strings.Join(list, " "), err, msg)
			continue
		}
		out[tags] = map[string]string{}
		for _, pkg := range list {
			out[tags][pkg] = filepath.Join(dir, path.Base(pkg))
		}
	}
	return out
}

// flagsOf runs the program (or its subcommand) with -h, which sends
// nothing anywhere, and reads the flag names its usage lists.
func flagsOf(bin, sub string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"-h"}
	if sub != "" {
		args = []string{sub, "-h"}
	}
	out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput() // -h exits 0 or 2 by the program's habit
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("-h did not end within 30 s: %q is not a subcommand it knows", sub)
	}
	names := map[string]bool{}
	for _, m := range flagNameRE.FindAllStringSubmatch(string(out), -1) {
		names[m[1]] = true
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("-h printed no flags (is %q a subcommand?):\n%s", sub, out)
	}
	return names, nil
}
