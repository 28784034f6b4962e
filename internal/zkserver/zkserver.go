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

// servletJar is the servlet API the AdminServer's Jetty needs, which
// the jar's manifest leaves out.
const servletJar = "/usr/share/java/servlet-api.jar"

// Server is one running ZooKeeper.
type Server struct {
	// Addr is its client address, host:port on the loopback.
	Addr string
	// AdminAddr is its AdminServer's address (StartWithAdmin), else "".
	AdminAddr string
	cmd       *exec.Cmd
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
	return start(dir, timeout, options{extra: extra})
}

// StartWithAdmin is Start with the AdminServer on a free loopback port
// (AdminAddr).
func StartWithAdmin(dir string, timeout time.Duration) (*Server, error) {
	return start(dir, timeout, options{admin: true})
}

// StartJVM is StartWith with extra JVM flags (system properties such as
// -Djava.security.auth.login.config=FILE).
func StartJVM(dir string, timeout time.Duration, extra string, jvmFlags ...string) (*Server, error) {
	return start(dir, timeout, options{extra: extra, jvmFlags: jvmFlags})
}

// options are a start's variations: extra zoo.cfg lines, the
// AdminServer, JVM flags.
type options struct {
	extra    string
	admin    bool
	jvmFlags []string
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func start(dir string, timeout time.Duration, o options) (*Server, error) {
	if _, err := os.Stat(Jar); err != nil {
		return nil, errors.New("zkserver: Apache ZooKeeper not found: install Debian's zookeeper package")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	adminCfg, adminAddr := "admin.enableServer=false\n", ""
	if o.admin {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		adminAddr = fmt.Sprintf("127.0.0.1:%d", p)
		adminCfg = fmt.Sprintf("admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=%d\n", p)
	}
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n%s4lw.commands.whitelist=*\nmaxClientCnxns=0\n%s\n", dir, port, adminCfg, o.extra)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	classPath := Jar
	if o.admin {
		classPath += ":" + servletJar
	}
	args := append([]string{"-Xmx256m"}, o.jvmFlags...)
	args = append(args, "-cp", classPath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	cmd := exec.Command("java", args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), AdminAddr: adminAddr, cmd: cmd}
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
