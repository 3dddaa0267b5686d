/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A main() for the fuzz targets without libFuzzer: runs each file named
 * on the command line (or every file of each directory named) through
 * LLVMFuzzerTestOneInput once. The corpus and every crash reproducer then
 * run as ordinary unit tests with gcc, under ASan and under valgrind.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1u << 20)
#define MAX_FILES 100000u

static unsigned run_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned runs = 0, files;
	int i;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (argv[i][0] == '-')
			continue; /* libFuzzer flags: ignored here */
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such input %s\n", argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			runs += run_file(argv[i]);
			continue;
		}
		d = opendir(argv[i]);
		if (!d)
			return 2;
		for (files = 0; files < MAX_FILES && (e = readdir(d)) != NULL; files++) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				runs += run_file(path);
		}
		closedir(d);
	}
	printf("replay: %u inputs ran clean\n", runs);
	return runs ? 0 : 1;
}
