package zk

import (
	"crypto/sha1"
	"encoding/base64"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// worldAnyone is the open ACL's subject.
var worldAnyone = ID{"world", "anyone"}

// digestID is the digest scheme's identity for "user:password": the user
// and the base64 SHA-1 of the whole string, as ZooKeeper's
// DigestAuthenticationProvider computes it.
func digestID(userPass string) string {
	user, _, _ := strings.Cut(userPass, ":")
	sum := sha1.Sum([]byte(userPass))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// javaSplit splits s on sep as Java's String.split does: trailing empty
// strings are dropped.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// validID reports whether id is well formed for its scheme; false for an
// unknown scheme.
func validID(id ID) bool {
	switch id.Scheme {
	case "digest":
		return len(javaSplit(id.ID, ":")) == 2
	case "sasl":
		return validKerberosName(id.ID)
	case "x509":
		return true // any string names a certificate subject
	case "ip":
		addr, bits, hasBits := strings.Cut(id.ID, "/")
		ip := parseIP(addr)
		if ip == nil {
			return false
		}
		if hasBits {
			n, err := strconv.Atoi(bits)
			if err != nil || n < 0 || n > len(ip)*8 {
				return false
			}
		}
		return true
	}
	return false
}

// kerberosName is the form of a Kerberos principal.
var kerberosName = regexp.MustCompile(`^([^/@]*)(/([^/@]*))?@([^/@]*)$`)

// validKerberosName reports whether a sasl ACL's id is valid, as
// SASLAuthenticationProvider decides: a principal, or a name with no @.
func validKerberosName(s string) bool {
	return kerberosName.MatchString(s) || !strings.Contains(s, "@")
}

// authenticatedScheme reports whether an identity of scheme stands for
// a user ("auth" ACLs expand to them): digest, sasl and x509, not ip.
func authenticatedScheme(scheme string) bool {
	return scheme == "digest" || scheme == "sasl" || scheme == "x509"
}

// parseIP returns an address's bytes: 4 for IPv4, 16 for IPv6.
func parseIP(s string) net.IP {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil
	}
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

// ipMatches reports whether address addr is within the ACL expression
// expr (an address with an optional /bits mask).
func ipMatches(addr, expr string) bool {
	a, bits, hasBits := strings.Cut(expr, "/")
	acl, remote := parseIP(a), parseIP(addr)
	if acl == nil || remote == nil || len(acl) != len(remote) {
		return false
	}
	n := len(acl) * 8
	if hasBits {
		var err error
		if n, err = strconv.Atoi(bits); err != nil || n < 0 || n > len(acl)*8 {
			return false
		}
	}
	mask := net.CIDRMask(n, len(acl)*8)
	return acl.Mask(mask).Equal(remote.Mask(mask))
}

// fixupACL validates an ACL for create and setACL and expands the "auth"
// scheme to the caller's authenticated identities, as ZooKeeper's
// PrepRequestProcessor.fixupACL does; ok is false for InvalidACL.
func fixupACL(acl []ACL, auth []ID) ([]ACL, bool) {
	if len(acl) == 0 {
		return nil, false
	}
	var uniq []ACL
	for _, a := range acl {
		if !slices.Contains(uniq, a) {
			uniq = append(uniq, a)
		}
	}
	var out []ACL
	for _, a := range uniq {
		switch {
		case a.ID == worldAnyone:
			out = append(out, a)
		case a.Scheme == "auth":
			found := false
			for _, id := range auth {
				if authenticatedScheme(id.Scheme) {
					found = true
					out = append(out, ACL{a.Perms, id})
				}
			}
			if !found {
				return nil, false
			}
		default:
			if !validID(a.ID) {
				return nil, false
			}
			out = append(out, a)
		}
	}
	return out, true
}

// allowed reports whether identities auth hold perm under acl, as
// ZooKeeperServer.checkACL decides: an empty ACL and the super user allow
// everything.
func allowed(acl []ACL, perm int32, auth []ID) bool {
	if len(acl) == 0 {
		return true
	}
	for _, id := range auth {
		if id.Scheme == "super" {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID == worldAnyone {
			return true
		}
		for _, id := range auth {
			if id.Scheme != a.Scheme {
				continue
			}
			switch a.Scheme {
			case "digest", "x509":
				if id.ID == a.ID.ID {
					return true
				}
			case "sasl":
				// SASLAuthenticationProvider.matches: the user named
				// super matches every sasl ACL.
				if id.ID == a.ID.ID || id.ID == "super" {
					return true
				}
			case "ip":
				if ipMatches(id.ID, a.ID.ID) {
					return true
				}
			}
		}
	}
	return false
}

// redactACL hides digest hashes, as getACL does for a caller without
// ADMIN permission.
func redactACL(acl []ACL) []ACL {
	out := make([]ACL, len(acl))
	for i, a := range acl {
		if user, _, ok := strings.Cut(a.ID.ID, ":"); ok && a.Scheme == "digest" {
			a.ID.ID = user + ":x"
		}
		out[i] = a
	}
	return out
}
