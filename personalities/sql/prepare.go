package sql

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
)

// deallocate runs DEALLOCATE [PREPARE] name | ALL: it drops prepared
// statements of the connection (those of the extended protocol's Parse).
// PREPARE and EXECUTE as SQL statements are not supported yet.
func (c *conn) deallocate(d *pg.DeallocateStmt) (*exec.Result, error) {
	if d.Isall || d.Name == "" {
		for name := range c.prepared {
			if name != "" {
				delete(c.prepared, name)
			}
		}
		return &exec.Result{Tag: "DEALLOCATE ALL"}, nil
	}
	if _, ok := c.prepared[d.Name]; !ok {
		return nil, pgerror.New(pgerror.InvalidSQLStatementName, "prepared statement \"%s\" does not exist", d.Name)
	}
	delete(c.prepared, d.Name)
	return &exec.Result{Tag: "DEALLOCATE"}, nil
}
