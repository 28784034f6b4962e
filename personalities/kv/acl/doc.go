// Package acl is Redis 7.0's access control lists as pure functions: a
// User with its passwords (SHA-256, as Redis keeps them) and selectors
// (commands as a bitmap over the command table's IDs, key patterns with
// read/write permissions, channel patterns), the rules of ACL SETUSER
// with Redis's exact errors (SetUser), the description ACL LIST and ACL
// GETUSER give (Describe, the category fitting of Redis 7.0 included)
// and the permission check Redis makes before a command runs (Check).
//
//	u := acl.NewUser("alice")
//	if err := u.SetUser([]string{"on", ">secret", "~app:*", "+@read"}); err != nil { ... }
//	denied, pos := u.Check(cmdtable.Lookup("get"), args)
//
// A User is a value the server keeps immutable once published: SetUser
// works on a Clone. Nothing here reads a clock or draws randomness, so
// applying the same rules gives the same user on every replica.
package acl
