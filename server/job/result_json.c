#include "result_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int sp_json_set_output(json_t *obj, const char *key, const struct sp_output *out)
{
	const char *data = out->data ? out->data : "";
	json_t *text = json_stringn(data, out->length);
	char encoding_key[64];
	char *encoded;

	if (text != NULL)
		return json_object_set_new(obj, key, text);
	encoded = sp_base64_encode((const unsigned char *)data, out->length);
	if (encoded == NULL)
		return -1;
	snprintf(encoding_key, sizeof(encoding_key), "%s_encoding", key);
	json_object_set_new(obj, key, json_string(encoded));
	json_object_set_new(obj, encoding_key, json_string("base64"));
	free(encoded);
	return 0;
}

static json_t *int_or_null(long long value, int is_set)
{
	return is_set ? json_integer(value) : json_null();
}

json_t *sp_result_to_json(const struct sp_step_result *res)
{
	json_t *obj = json_object();
	char described[SP_ERROR_MESSAGE_MAX + 128];

	if (obj == NULL)
		return NULL;
	json_object_set_new(obj, "status", json_string(sp_status_to_string(res->status)));
	json_object_set_new(obj, "exit_code", int_or_null(res->exit_code, res->exit_code >= 0));
	json_object_set_new(obj, "signal", int_or_null(res->signal, res->signal > 0));
	json_object_set_new(obj, "cpu_ms", json_integer((json_int_t)res->cpu_ms));
	json_object_set_new(obj, "wall_ms", json_integer((json_int_t)res->wall_ms));
	json_object_set_new(obj, "memory_kb", json_integer((json_int_t)res->memory_kb));
	if (sp_json_set_output(obj, "stdout", &res->out) < 0 ||
	    sp_json_set_output(obj, "stderr", &res->err) < 0) {
		json_decref(obj);
		return NULL;
	}
	json_object_set_new(obj, "truncated", json_boolean(res->truncated));
	if (res->runtime_prepared) /* its runtime was started before the code came */
		json_object_set_new(obj, "prepared", json_true());
	if (res->error.message[0] != '\0')
		json_object_set_new(
		    obj, "error",
		    json_string(sp_error_describe(&res->error, described, sizeof(described))));
	return obj;
}
