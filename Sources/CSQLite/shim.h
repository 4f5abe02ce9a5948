// The system's SQLite 3 (Debian libsqlite3-dev), as the RelayStore target uses it. Only RelayStore
// imports this module.
#include <sqlite3.h>
