/* Exists only to carry every ABI type into debug info, so abidiff can compare the layout
 * of the header against plugin_api/abi/baseline.abi. */
#include <junction/plugin_api.h>

void jn_abi_probe(jn_str* a, jn_http_header* b, jn_http_request* c, jn_http_response* d,
                  jn_host_api* e, jn_instance_params* f, jn_connector_api* g,
                  jn_negotiate_request* h, jn_negotiate_response* i, jn_plugin_negotiate_fn j,
                  jn_http_response_fn k, jn_value_fn l);
void jn_abi_probe(jn_str* a, jn_http_header* b, jn_http_request* c, jn_http_response* d,
                  jn_host_api* e, jn_instance_params* f, jn_connector_api* g,
                  jn_negotiate_request* h, jn_negotiate_response* i, jn_plugin_negotiate_fn j,
                  jn_http_response_fn k, jn_value_fn l) {
    (void)a; (void)b; (void)c; (void)d; (void)e; (void)f;
    (void)g; (void)h; (void)i; (void)j; (void)k; (void)l;
}
