/* setenv-exec NAME=VALUE... PROGRAM [ARGS...]: a static, minimal `env`, so that hyperfine (which cannot
 * set a variable for one command) can run `python3.11 main.py` with PYTHONPATH for the system
 * site-packages floor. Its own cost (one extra exec of a small static binary) is measured separately by
 * scripts/bench and reported next to that row. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int i = 1;
    for (; i < argc && strchr(argv[i], '=') != NULL; i++) {
        putenv(argv[i]);
    }
    if (i >= argc) {
        return 127;
    }
    execv(argv[i], argv + i);
    return 127;
}
