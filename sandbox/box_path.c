#include "box_path.h"

#include <string.h>

bool sp_box_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SP_BOX_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

bool sp_box_path_valid(const char *path)
{
	char part[SP_BOX_NAME_MAX + 1];
	size_t len = strlen(path), depth = 0;

	if (len == 0 || len > SP_BOX_PATH_MAX || path[0] == '/')
		return false;
	while (*path != '\0') {
		size_t n = strcspn(path, "/");

		if (n == 0 || n > SP_BOX_NAME_MAX || ++depth > SP_BOX_DEPTH_MAX)
			return false;
		memcpy(part, path, n);
		part[n] = '\0';
		if (!sp_box_name_valid(part))
			return false;
		path += n;
		if (*path == '/' && *++path == '\0')
			return false;
	}
	return true;
}
