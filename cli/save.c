/* nfpilot save [FILE] [--mode MODE] [--check]: make the live ruleset the
 * one loaded at boot, or say whether it is. */
#include "cli/cli.h"

#include "model/json.h"
#include "apply/save.h"
#include "model/config.h"
#include "model/fmt.h"
#include "probation/state.h"
#include "nft/nl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char save_usage[] =
	"usage: nfpilot [-N NETNS] save [FILE] [--mode MODE] [--check]\n"
	"  write the live ruleset to FILE (default " SAVE_DEFAULT_FILE ", or the\n"
	"  config key save_file; in a network namespace no default but the config\n"
	"  key save_file.NAME), which nft loads at boot; the previous file is kept as FILE.bak. Tables managed by\n"
	"  iptables-nft are left out (save those with iptables-save). Refused while a\n"
	"  change is on probation in this namespace: confirm it first. Refused when\n"
	"  FILE is a symbolic link, or FILE or a folder above it is owned or writable\n"
	"  by another user than root.\n"
	"  --mode MODE  the file's mode, octal, at most 0755 (config key save_mode);\n"
	"            default: the previous file's, never more than 0644\n"
	"  --check   only say whether the live ruleset equals what FILE loads\n"
	"            (exit 0 same, 1 differs, 3 no such file)\n";

int cli_save(int argc, char **argv)
{
	struct nfp_config cfg;
	const char *file;
	char ns[64];
	bool check = false, have_file = false, same, had;
	char err[1024], skipped[512];
	struct nl nl;
	int ret, mode;

	config_load(&cfg, NULL, NULL); /* save_file, save_mode */
	/* a namespace never gets the machine's boot file */
	file = config_save_file(&cfg, state_ns_name(ns, sizeof(ns)) ? ns : NULL);
	mode = cfg.save_mode;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(save_usage, stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = true;
		} else if (strcmp(argv[i], "--mode") == 0) {
			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE, "--mode needs an octal mode, e.g. 0640");
			mode = config_mode_parse(argv[++i]);
			if (mode == -ERANGE)
				return cli_fail(EXIT_USAGE, "--mode %s: at most 0755 (no set-id bits, no "
						"write for group or others)", argv[i]);
			if (mode < 0)
				return cli_fail(EXIT_USAGE, "--mode needs an octal mode such as 0640, "
						"not '%s'", argv[i]);
		} else if (argv[i][0] != '-' && !have_file) {
			file = argv[i];
			have_file = true;
		} else {
			fputs(save_usage, stderr);
			return cli_fail(EXIT_USAGE, "save: unexpected '%s'", argv[i]);
		}
	}
	if (!file)
		return cli_fail(EXIT_USAGE, "network namespace %s has no boot file: nfpilot save "
				"FILE, or the config key save_file.%s = FILE", ns, ns);
	ret = nl_open(&nl, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	if (check) {
		ret = save_check(&nl, file, &same, err, sizeof(err));
		nl_close(&nl);
		if (ret)
			return cli_fail(cli_exit_code(ret), "%s", err);
		cli_json_outcome(same ? "saved" : "not saved");
		if (cli_json())
			json_str(cli_json(), "file", file);
		if (same) {
			printf("saved: the live ruleset is what %s loads\n", file);
			return EXIT_OK;
		}
		printf("not saved: the live ruleset differs from %s (lost at reboot)\n", file);
		fputs("first difference, ", stdout);
		fmt_put_safe(stdout, err);
		fputc('\n', stdout);
		cli_json_message("not saved: the live ruleset differs from the file (lost at reboot)");
		return EXIT_FAIL;
	}
	/* save_write refuses too; said before anything is read */
	ret = save_probation_check(err, sizeof(err));
	if (ret) {
		nl_close(&nl);
		return cli_fail(cli_exit_code(ret), "not saved: %s", err);
	}
	had = access(file, F_OK) == 0;
	ret = save_write(&nl, file, mode, skipped, sizeof(skipped), err, sizeof(err));
	nl_close(&nl);
	if (ret)
		return cli_fail(cli_exit_code(ret), "not saved: %s", err);
	cli_json_outcome("saved");
	if (cli_json()) {
		json_str(cli_json(), "file", file);
		json_str(cli_json(), "left_out", skipped[0] ? skipped : NULL);
	}
	if (had)
		printf("saved the live ruleset to %s (the previous file is %s.bak)\n", file, file);
	else
		printf("saved the live ruleset to %s\n", file);
	if (skipped[0]) {
		printf("left out, managed by iptables-nft: ");
		fmt_put_safe(stdout, skipped);
		printf("\n  (save those with iptables-save, e.g. to /etc/iptables/rules.v4)\n");
	}
	return EXIT_OK;
}
