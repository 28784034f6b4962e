package exec

import (
	"context"
	"math"
	"time"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// pg_sleep waits on the statement's context (Env.Context), so a cancel
// request or the connection closing ends it with 57014. A statement that
// runs at apply on every replica must not wait (it would stall the log's
// apply loop), so pg_sleep there is refused: unlike Postgres, a statement
// that writes outside a transaction block cannot call pg_sleep.

// ErrCanceled is the error a statement canceled by a cancel request
// fails with.
func ErrCanceled() *pgerror.Error {
	return pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
}

// Sleep waits d on ctx; a canceled ctx gives 57014.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	wait, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	<-wait.Done()
	if ctx.Err() != nil {
		return ErrCanceled()
	}
	return nil
}

func init() {
	RegisterFunc(&Func{Name: "pg_sleep", Args: []types.Oid{types.OidFloat8}, Ret: types.OidVoid, Strict: true, Oid: 2626,
		Fn: func(ctx *EvalCtx, a []any) (any, error) {
			if ctx.Env.AtApply || ctx.Env.Context == nil {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "pg_sleep cannot be called in a statement that writes")
			}
			secs := a[0].(float64)
			if math.IsNaN(secs) || secs <= 0 {
				return "", nil
			}
			d := time.Duration(math.Min(secs, float64(math.MaxInt64/int64(time.Second))) * float64(time.Second))
			if err := Sleep(ctx.Env.Context, d); err != nil {
				return nil, err
			}
			return "", nil
		}})
}
