/* src/os/env.c — reading the environment without libc's getenv.
 *
 * sable reads SABLE_CONF during its first allocation, which can happen inside
 * the dynamic loader or libc's own start-up, before getenv is safe to call
 * and while any allocation would recurse. `environ` itself is set up by then.
 *
 * Invariants: the returned string is environ's own; nothing is copied or
 * allocated.
 * Locking: none; environ is read, never written.
 */
#include "os/os.h"

#include <string.h>

extern char **environ;

const char *os_getenv(const char *name)
{
    size_t len = strlen(name);
    char **env = environ;
    if (env == NULL) return NULL;
    for (; *env != NULL; env++) {
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=') return *env + len + 1;
    }
    return NULL;
}
