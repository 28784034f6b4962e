// Package pgerror is the error a SQL statement fails with, as Postgres
// reports it: a SQLSTATE code, a severity, a message, and the optional
// detail, hint, position and object names of an ErrorResponse. Every layer
// of the Postgres personality returns these for a statement's own
// failures; the wire layer turns them into ErrorResponse messages as they
// are. Anything else that reaches the wire layer is an internal error
// (XX000).
package pgerror

import (
	"errors"
	"fmt"
)

// Error is a statement's failure.
type Error struct {
	Code     string // SQLSTATE, five characters
	Severity string // ERROR (default), FATAL, PANIC
	Message  string
	Detail   string
	Hint     string
	Position int32 // 1-based character position in the query, 0 if none
	// Where the error was raised, as Postgres reports them for some errors.
	Schema, Table, Column, DataType, Constraint string
	// Where is the error's context (psql's CONTEXT line): the COPY line
	// a bad value came from, or "JSON data, line 1: ...".
	Where string
}

func (e *Error) Error() string { return e.Message }

// New returns an ERROR with code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Severity: "ERROR", Message: fmt.Sprintf(format, args...)}
}

// WithDetail sets the detail and returns e.
func (e *Error) WithDetail(format string, args ...any) *Error {
	e.Detail = fmt.Sprintf(format, args...)
	return e
}

// WithHint sets the hint and returns e.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// WithPosition sets the 1-based position and returns e.
func (e *Error) WithPosition(pos int32) *Error {
	e.Position = pos
	return e
}

// As returns err as an *Error: itself if it is one (or wraps one), else an
// internal error (XX000) with err's text.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Severity: "ERROR", Message: err.Error()}
}

// CodeOf returns err's SQLSTATE ("" for nil, XX000 if it is not an *Error).
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	return As(err).Code
}

// SQLSTATE codes in use (Postgres 15, appendix A).
const (
	SuccessfulCompletion                = "00000"
	Warning                             = "01000"
	NoData                              = "02000"
	FeatureNotSupported                 = "0A000"
	InvalidTransactionInitiation        = "0B000"
	CardinalityViolation                = "21000"
	DataException                       = "22000"
	ArraySubscriptError                 = "2202E"
	CharacterNotInRepertoire            = "22021"
	DatetimeFieldOverflow               = "22008"
	DivisionByZero                      = "22012"
	ErrorInAssignment                   = "22005"
	IntervalFieldOverflow               = "22015"
	InvalidArgumentForLogarithm         = "2201E"
	InvalidArgumentForPowerFunction     = "2201F"
	InvalidBinaryRepresentation         = "22P03"
	InvalidDatetimeFormat               = "22007"
	InvalidEscapeSequence               = "22025"
	InvalidParameterValue               = "22023"
	InvalidRegularExpression            = "2201B"
	InvalidTextRepresentation           = "22P02"
	InvalidTimeZoneDisplacementValue    = "22009"
	NullValueNotAllowed                 = "22004"
	NumericValueOutOfRange              = "22003"
	StringDataRightTruncation           = "22001"
	SubstringError                      = "22011"
	UntranslatableCharacter             = "22P05"
	InvalidJSONText                     = "22P02"
	SQLJSONItemCannotBeCastToTargetType = "2203G"
	BadCopyFileFormat                   = "22P04"
	IntegrityConstraintViolation        = "23000"
	RestrictViolation                   = "23001"
	NotNullViolation                    = "23502"
	ForeignKeyViolation                 = "23503"
	UniqueViolation                     = "23505"
	CheckViolation                      = "23514"
	InvalidCursorState                  = "24000"
	InvalidTransactionState             = "25000"
	ActiveSQLTransaction                = "25001"
	ReadOnlySQLTransaction              = "25006"
	NoActiveSQLTransaction              = "25P01"
	InFailedSQLTransaction              = "25P02"
	InvalidSQLStatementName             = "26000"
	InvalidAuthorizationSpecification   = "28000"
	InvalidPassword                     = "28P01"
	InvalidCatalogName                  = "3D000"
	InvalidCursorName                   = "34000"
	InvalidSchemaName                   = "3F000"
	TransactionRollback                 = "40000"
	SerializationFailure                = "40001"
	SyntaxErrorOrAccessRuleViolation    = "42000"
	SyntaxError                         = "42601"
	InsufficientPrivilege               = "42501"
	CannotCoerce                        = "42846"
	GroupingError                       = "42803"
	WindowingError                      = "42P20"
	InvalidRecursion                    = "42P19"
	InvalidForeignKey                   = "42830"
	GeneratedAlways                     = "428C9"
	InvalidName                         = "42602"
	NameTooLong                         = "42622"
	ReservedName                        = "42939"
	DatatypeMismatch                    = "42804"
	IndeterminateDatatype               = "42P18"
	CollationMismatch                   = "42P21"
	WrongObjectType                     = "42809"
	UndefinedColumn                     = "42703"
	UndefinedFunction                   = "42883"
	UndefinedTable                      = "42P01"
	UndefinedParameter                  = "42P02"
	UndefinedObject                     = "42704"
	DuplicateColumn                     = "42701"
	DuplicateCursor                     = "42P03"
	DuplicateDatabase                   = "42P04"
	DuplicateFunction                   = "42723"
	DuplicatePreparedStatement          = "42P05"
	DuplicateSchema                     = "42P06"
	DuplicateTable                      = "42P07"
	DuplicateAlias                      = "42712"
	DuplicateObject                     = "42710"
	AmbiguousColumn                     = "42702"
	AmbiguousFunction                   = "42725"
	AmbiguousParameter                  = "42P08"
	AmbiguousAlias                      = "42P09"
	InvalidColumnReference              = "42P10"
	InvalidColumnDefinition             = "42611"
	InvalidCursorDefinition             = "42P11"
	InvalidDatabaseDefinition           = "42P12"
	InvalidFunctionDefinition           = "42P13"
	InvalidPreparedStatementDefinition  = "42P14"
	InvalidSchemaDefinition             = "42P15"
	InvalidTableDefinition              = "42P16"
	InvalidObjectDefinition             = "42P17"
	DependentObjectsStillExist          = "2BP01"
	ObjectInUse                         = "55006"
	ObjectNotInPrerequisiteState        = "55000"
	QueryCanceled                       = "57014"
	AdminShutdown                       = "57P01"
	ProgramLimitExceeded                = "54000"
	TooManyConnections                  = "53300"
	ProtocolViolation                   = "08P01"
	ConnectionException                 = "08000"
	ConnectionFailure                   = "08006"
	UndefinedFile                       = "58P01"
	Internal                            = "XX000"
	ConfigFileError                     = "F0000"
	CantChangeRuntimeParam              = "55P02"
	InvalidParameterValueConfig         = "22023"
	UndefinedConfigParameter            = "42704"
	ModifyingSQLDataNotPermitted        = "2F002"
	StatementTooComplex                 = "54001"
	FeatureNotSupportedYet              = "0A000"
)
