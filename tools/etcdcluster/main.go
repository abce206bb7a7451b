// Command etcdcluster runs an etcd cluster inside one process, with etcd's
// own server (go.etcd.io/etcd/server/v3/embed), for trying the reference
// on etcd where no etcd is installed:
//
//	go run ./tools/etcdcluster                 # 3 members, client ports 2379, 2381, 2383
//	go run ./tools/etcdcluster -members 1 -base-port 23790
//
// Member i listens for clients on 127.0.0.1:(base-port + 2i) and for its
// peers on the port after it, keeps its data under -dir (default a
// temporary directory, removed at exit) with fsync on, and the command
// prints the --etcd-endpoints value for the reference with --store etcd.
// Ctrl-C or SIGTERM stops it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/attrconform/attrconform/internal/etcdtest"
)

func main() {
	members := flag.Int("members", 3, "number of members (1 to 9)")
	basePort := flag.Int("base-port", 2379, "client port of the first member; member i uses base-port+2i for clients and base-port+2i+1 for peers")
	dir := flag.String("dir", "", "directory of the members' data; default a temporary one, removed at exit")
	flag.Parse()
	if *basePort < 1 || *basePort+2**members > 65535 {
		fmt.Fprintf(os.Stderr, "etcdcluster: -base-port %d leaves no room for %d members\n", *basePort, *members)
		os.Exit(2)
	}
	c, err := etcdtest.Start(etcdtest.Options{Members: *members, BasePort: *basePort, Dir: *dir, Fsync: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcdcluster: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("etcd: %d members on 127.0.0.1 (Ctrl-C stops them)\n", c.Members())
	fmt.Printf("--etcd-endpoints %s\n", strings.Join(c.Endpoints(), ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.Close()
}
