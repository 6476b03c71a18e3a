/* Compiled as C99 with -pedantic -Werror: the header must never need more than that. */
#include <junction/plugin_api.h>

int jn_c99_check(void);
int jn_c99_check(void) {
    jn_str s = {0, 0};
    return (int)s.len + (int)JN_CONNECTOR_API_V1_0_SIZE + (int)JN_HOST_API_V1_0_SIZE;
}
