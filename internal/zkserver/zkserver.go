// Package zkserver runs Apache ZooKeeper (Debian's zookeeper package,
// /usr/share/java/zookeeper.jar) standalone in a temporary directory, for
// tests that need the real server: the conformance tests that diff the
// gateway against it, and the ZooKeeper loglet's tests.
package zkserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Jar is Debian's ZooKeeper server jar.
const Jar = "/usr/share/java/zookeeper.jar"

// Server is one running ZooKeeper.
type Server struct {
	// Addr is its client address, host:port on the loopback.
	Addr string
	cmd  *exec.Cmd
}

// Start starts ZooKeeper with its data in dir on a free loopback port
// and returns once it answers "ruok", or fails after timeout.
func Start(dir string, timeout time.Duration) (*Server, error) {
	return StartWith(dir, timeout, "")
}

// StartWith is Start with extra zoo.cfg lines, which override the
// defaults (every four-letter word allowed, no AdminServer). With a
// 4lw.commands.whitelist they must allow ruok.
func StartWith(dir string, timeout time.Duration, extra string) (*Server, error) {
	return StartJVM(dir, timeout, extra)
}

// StartJVM is StartWith with extra JVM flags (system properties such as
// -Djava.security.auth.login.config=FILE).
func StartJVM(dir string, timeout time.Duration, extra string, jvmFlags ...string) (*Server, error) {
	if _, err := os.Stat(Jar); err != nil {
		return nil, errors.New("zkserver: Apache ZooKeeper not found: install Debian's zookeeper package")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n%s\n", dir, port, extra)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	args := append([]string{"-Xmx256m"}, jvmFlags...)
	args = append(args, "-cp", Jar, "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	cmd := exec.Command("java", args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	for deadline := time.Now().Add(timeout); ; {
		if out, err := FourLetter(s.Addr, "ruok"); err == nil && string(out) == "imok" {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("zkserver: ZooKeeper on %s not ready after %v", s.Addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// FourLetter sends a four-letter word to addr and returns the reply.
func FourLetter(addr, word string) ([]byte, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte(word)); err != nil {
		return nil, err
	}
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, nil
		}
	}
}
