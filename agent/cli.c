/* cli.c - subcommand dispatch and option parsing (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "agent.h"
#include "args.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "keystore.h"
#include "light.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "ping.h"
#include "sender.h"
#include "server.h"
#include "version.h"

#define DEFAULT_PORT 862
#define MAX_LISTEN 16
#define MAX_ALLOW 64
/* Padding that fits a test packet in every mode (48-octet keyed header). */
#define MAX_PADDING (TW_SENDER_MAX_PACKET - TW_SENDER_HDR_KEYED)

static void print_version(void)
{
	printf("twamp-agent %s (revision %s)\n", TW_VERSION, TW_REVISION);
}

static void print_usage(FILE *out)
{
	fputs("usage: twamp-agent [--help] [--version] [<command>] [options]\n"
	      "\n"
	      "commands:\n"
	      "  run       (default) the agent: measure the configured targets continuously,\n"
	      "            reflect for peers, serve Prometheus metrics\n"
	      "  reflect   run the TWAMP server and session reflector only\n"
	      "  ping      run one TWAMP session against HOST[:PORT] and print a summary\n"
	      "\n"
	      "Run 'twamp-agent <command> --help' for the options of a command.\n",
	      out);
}

/* ---- ping ---- */

static const char ping_help[] =
	"usage: twamp-agent ping [options] HOST[:PORT]\n"
	"\n"
	"Runs one TWAMP session against a TWAMP server (default port 862) and prints\n"
	"a twping-like summary. HOST is a name, an IPv4 address or an IPv6 address in\n"
	"brackets ([::1]:862).\n"
	"\n"
	"  -c, --count N            test packets to send (default 100)\n"
	"  -i, --interval T         packet spacing in seconds or as 10ms (default 0.1)\n"
	"      --poisson            exponentially distributed spacing with mean -i\n"
	"  -s, --padding N          padding octets per packet, 0-9168 (default: equal\n"
	"                           sizes both ways: 27 unauthenticated/mixed, 64 keyed)\n"
	"      --zero-padding       all-zero padding instead of pseudo-random octets\n"
	"  -D, --dscp DSCP          DSCP of the test packets, 0-63 or EF, AF41, CS1... (0)\n"
	"  -L, --loss-timeout T     a packet unanswered this long is lost (default 2s)\n"
	"  -T, --session-timeout T  Request-TW-Session Timeout (default: the loss timeout)\n"
	"  -4, -6                   use IPv4 / IPv6 only\n"
	"  -S, --source ADDR        source address\n"
	"  -I, --interface NAME     source interface (SO_BINDTODEVICE)\n"
	"      --mode MODES         acceptable security modes, comma separated: open\n"
	"                           (unauthenticated), authenticated, encrypted, mixed,\n"
	"                           auto (default: auto = the strongest the server offers\n"
	"                           and we have keys for)\n"
	"      --identity NAME      KeyID for the keyed modes\n"
	"      --key-file FILE      pfs key file ('identity hex-secret' lines) or a\n"
	"                           directory of files named after identities\n"
	"      --max-kdf-count N    refuse a server PBKDF2 Count above N (default 32768)\n"
	"      --connect-timeout T  connect and per-reply timeout (default 10s)\n"
	"      --features LIST      TWAMP options to use when the server offers them: isc,\n"
	"                           reflect_octets, symmetric_size, dscp_ecn, ptp\n"
	"      --light              TWAMP Light: no TWAMP-Control, test packets straight to\n"
	"                           HOST:PORT (a keyed mode needs a 48-octet secret)\n"
	"      --stamp              STAMP (RFC 8762) to HOST:PORT; --mode authenticated uses\n"
	"                           the secret as the HMAC-SHA-256 key\n"
	"      --ssid N             STAMP Session-Sender Identifier (default: random)\n"
	"      --tlv LIST           STAMP TLVs to send: location, timestamp_info, cos,\n"
	"                           direct_measurement, follow_up\n"
	"      --json               print one JSON object instead of text\n"
	"\n"
	"exit status: 0 replies received; 1 every packet lost; 2 bad command line;\n"
	"3 network failure (resolve, connect, connection lost, no answer); 4 the\n"
	"server refused or broke the protocol; 5 authentication failed or unusable key\n"
	"file.\n";

enum {
	OPT_POISSON = 256,
	OPT_ZERO_PADDING,
	OPT_MODE,
	OPT_IDENTITY,
	OPT_KEY_FILE,
	OPT_MAX_KDF,
	OPT_JSON,
	OPT_CONNECT_TIMEOUT,
	OPT_LISTEN,
	OPT_ALLOW,
	OPT_MODES,
	OPT_MAX_CONN,
	OPT_MAX_SESS,
	OPT_SERVWAIT,
	OPT_REFWAIT,
	OPT_TEST_PORTS,
	OPT_KDF_COUNT,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_HELP,
	OPT_LIGHT,
	OPT_STAMP,
	OPT_SSID,
	OPT_TLV,
	OPT_FEATURES,
	OPT_LIGHT_PORT,
	OPT_STAMP_PORT,
	OPT_STATELESS,
	OPT_REFLECT_TO_SOURCE,
};

static const struct option ping_options[] = {
	{ "count", required_argument, 0, 'c' },
	{ "interval", required_argument, 0, 'i' },
	{ "poisson", no_argument, 0, OPT_POISSON },
	{ "padding", required_argument, 0, 's' },
	{ "zero-padding", no_argument, 0, OPT_ZERO_PADDING },
	{ "dscp", required_argument, 0, 'D' },
	{ "loss-timeout", required_argument, 0, 'L' },
	{ "session-timeout", required_argument, 0, 'T' },
	{ "source", required_argument, 0, 'S' },
	{ "interface", required_argument, 0, 'I' },
	{ "mode", required_argument, 0, OPT_MODE },
	{ "identity", required_argument, 0, OPT_IDENTITY },
	{ "key-file", required_argument, 0, OPT_KEY_FILE },
	{ "max-kdf-count", required_argument, 0, OPT_MAX_KDF },
	{ "connect-timeout", required_argument, 0, OPT_CONNECT_TIMEOUT },
	{ "json", no_argument, 0, OPT_JSON },
	{ "light", no_argument, 0, OPT_LIGHT },
	{ "stamp", no_argument, 0, OPT_STAMP },
	{ "ssid", required_argument, 0, OPT_SSID },
	{ "tlv", required_argument, 0, OPT_TLV },
	{ "features", required_argument, 0, OPT_FEATURES },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 'V' },
	{ 0, 0, 0, 0 },
};

/* The exit status of a bad command line, for every command. */
#define EXIT_USAGE TW_PING_USAGE

/* Reports getopt's own complaint in our format. */
static int usage_error(const char *cmd, const char *what)
{
	fprintf(stderr, "twamp-agent %s: %s (see 'twamp-agent %s --help')\n", cmd, what, cmd);
	return EXIT_USAGE;
}

/* Applies one option of a command to ctx; a negative return means the
 * value was bad (the handler said why on stderr). */
typedef int (*option_fn)(int c, const char *arg, void *ctx);

/* Parses cmd's options: --help prints help, --version the version (exit
 * 0), getopt's complaints and a handler's failure are usage errors, every
 * other option goes to fn. Returns -1 once all options are applied
 * (argv[optind] is the first operand), else the exit status. */
static int parse_options(const char *cmd, int argc, char **argv, const char *shortopts,
			 const struct option *longopts, const char *help, option_fn fn, void *ctx)
{
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			c == 'h' ? fputs(help, stdout) : print_version();
			return 0;
		}
		if (c == '?' || c == ':') {
			char what[96];
			snprintf(what, sizeof(what), c == ':' ? "option '%s' needs a value" : "unknown option '%s'",
				 argv[optind - 1]);
			return usage_error(cmd, what);
		}
		if (fn(c, optarg, ctx) < 0)
			return EXIT_USAGE;
	}
	return -1;
}

/* --log.level and --log.format, which run and reflect share. */
typedef struct log_opts {
	tw_log_level level;
	tw_log_format format;
} log_opts;

/* Applies c when it is a log option: 0, -EINVAL (said why), or -ENOENT
 * for any other option. */
static int log_option(const char *cmd, int c, const char *arg, log_opts *l)
{
	if (c == OPT_LOG_LEVEL) {
		if (tw_log_parse_level(arg, &l->level) == 0)
			return 0;
		fprintf(stderr, "twamp-agent %s: --log.level '%s': expected debug, info, warn or error\n", cmd, arg);
		return -EINVAL;
	}
	if (c == OPT_LOG_FORMAT) {
		if (tw_log_parse_format(arg, &l->format) == 0)
			return 0;
		fprintf(stderr, "twamp-agent %s: --log.format '%s': expected logfmt or json\n", cmd, arg);
		return -EINVAL;
	}
	return -ENOENT;
}

static int ping_option(int c, const char *arg, tw_ping_opts *o)
{
	uint64_t v;
	switch (c) {
	case 'c':
		if (tw_arg_u64("ping", "-c", arg, 1, UINT32_MAX, &v) < 0)
			return -EINVAL;
		o->count = v;
		return 0;
	case 'i':
		return tw_arg_duration("ping", "-i", arg, 1000, &o->interval_ns);
	case 's':
		if (tw_arg_u64("ping", "-s", arg, 0, MAX_PADDING, &v) < 0)
			return -EINVAL;
		o->padding = (int64_t)v;
		return 0;
	case 'D':
		return tw_arg_dscp("ping", "-D", arg, &o->dscp);
	case 'L':
		return tw_arg_duration("ping", "-L", arg, 1000000, &o->loss_timeout_ns);
	case 'T':
		return tw_arg_duration("ping", "-T", arg, 1000000, &o->session_timeout_ns);
	case OPT_CONNECT_TIMEOUT:
		return tw_arg_duration("ping", "--connect-timeout", arg, 1000000, &o->connect_timeout_ns);
	case OPT_MODE:
		return tw_arg_modes("ping", "--mode", arg, &o->modes);
	case OPT_SSID:
		if (tw_arg_u64("ping", "--ssid", arg, 1, 65535, &v) < 0)
			return -EINVAL;
		o->ssid = (uint16_t)v;
		return 0;
	case OPT_TLV:
		return tw_arg_tlvs("ping", "--tlv", arg, &o->tlvs);
	case OPT_FEATURES:
		return tw_arg_features("ping", "--features", arg, &o->features);
	case OPT_MAX_KDF:
		if (tw_arg_u64("ping", "--max-kdf-count", arg, 1024, UINT32_MAX, &v) < 0)
			return -EINVAL;
		o->max_kdf_count = (uint32_t)v;
		return 0;
	}
	return -ENOENT;
}

static int ping_flag(int c, const char *arg, void *ctx)
{
	tw_ping_opts *o = ctx;
	switch (c) {
	case '4':
		o->family = AF_INET;
		break;
	case '6':
		o->family = AF_INET6;
		break;
	case 'S':
		o->source = arg;
		break;
	case 'I':
		o->ifname = arg;
		break;
	case OPT_POISSON:
		o->poisson = true;
		break;
	case OPT_ZERO_PADDING:
		o->zero_padding = true;
		break;
	case OPT_IDENTITY:
		o->identity = arg;
		break;
	case OPT_KEY_FILE:
		o->key_file = arg;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_LIGHT:
	case OPT_STAMP:
		o->protocol = c == OPT_LIGHT ? TW_PING_LIGHT : TW_PING_STAMP;
		break;
	default:
		return ping_option(c, arg, o);
	}
	return 0;
}

static int cmd_ping(int argc, char **argv)
{
	tw_ping_opts o = {
		.port = DEFAULT_PORT,
		.family = AF_UNSPEC,
		.count = 100,
		.interval_ns = 100000000,
		.padding = -1,
		.loss_timeout_ns = 2000000000,
		.modes = TW_MODE_OPEN | TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED,
		.max_kdf_count = TW_KDF_MAX_COUNT_DEFAULT,
		.connect_timeout_ns = 10000000000LL,
	};
	int rc = parse_options("ping", argc, argv, ":c:i:s:D:L:T:S:I:46h", ping_options, ping_help, ping_flag, &o);
	if (rc >= 0)
		return rc;
	if (optind != argc - 1)
		return usage_error("ping", optind >= argc ? "missing HOST[:PORT]" : "more than one HOST given");
	char host[TW_ADDR_HOST_MAX];
	if (tw_arg_hostport("ping", "HOST", argv[optind], DEFAULT_PORT, host, sizeof(host), &o.port) < 0)
		return EXIT_USAGE;
	o.host = host;
	return tw_ping_run(&o);
}

/* ---- reflect ---- */

static const char reflect_help[] =
	"usage: twamp-agent reflect [options]\n"
	"\n"
	"Runs only the TWAMP server (TWAMP-Control) and the session reflector.\n"
	"\n"
	"  --listen ADDR:PORT      address to listen on, repeatable; ':PORT' means every\n"
	"                          address (IPv4 and IPv6); IPv6 in brackets, [::1]:862\n"
	"                          (default :862)\n"
	"  --allow CIDR            client networks allowed, repeatable (default: any)\n"
	"  --modes LIST            security modes offered, comma separated: open\n"
	"                          (unauthenticated), authenticated, encrypted, mixed\n"
	"                          (default: unauthenticated)\n"
	"  --key-file FILE         pfs key file or Secret directory (keyed modes)\n"
	"  --kdf-count N           PBKDF2 Count offered in the Greeting (default 2048)\n"
	"  --max-connections N     control connections at once (default 64)\n"
	"  --max-sessions N        sessions per control connection (default 16)\n"
	"  --servwait T            close idle control connections after T (default 900s)\n"
	"  --refwait T             end sessions silent for T (default 900s)\n"
	"  --test-ports MIN-MAX    UDP ports for test sessions (default: the requested\n"
	"                          port when free, else an ephemeral one)\n"
	"  --features LIST         TWAMP options offered: isc, reflect_octets,\n"
	"                          symmetric_size, dscp_ecn, ptp (default: none)\n"
	"  --reflect-to-source     answer test packets where they come from (NAT)\n"
	"                          instead of the registered Sender Address and Port\n"
	"  --light-port PORT       also run a TWAMP Light reflector on UDP PORT (every\n"
	"                          address), repeatable\n"
	"  --stamp-port PORT       also run a STAMP reflector on UDP PORT (it answers\n"
	"                          TWAMP Light senders too), repeatable\n"
	"  --stateless             Light/STAMP: copy the sender's sequence number\n"
	"                          instead of counting per sender\n"
	"  --log.level LEVEL       debug, info, warn, error (default info)\n"
	"  --log.format FORMAT     logfmt or json (default logfmt)\n";

static const struct option reflect_options[] = {
	{ "listen", required_argument, 0, OPT_LISTEN },
	{ "allow", required_argument, 0, OPT_ALLOW },
	{ "modes", required_argument, 0, OPT_MODES },
	{ "key-file", required_argument, 0, OPT_KEY_FILE },
	{ "kdf-count", required_argument, 0, OPT_KDF_COUNT },
	{ "max-connections", required_argument, 0, OPT_MAX_CONN },
	{ "max-sessions", required_argument, 0, OPT_MAX_SESS },
	{ "servwait", required_argument, 0, OPT_SERVWAIT },
	{ "refwait", required_argument, 0, OPT_REFWAIT },
	{ "test-ports", required_argument, 0, OPT_TEST_PORTS },
	{ "features", required_argument, 0, OPT_FEATURES },
	{ "reflect-to-source", no_argument, 0, OPT_REFLECT_TO_SOURCE },
	{ "light-port", required_argument, 0, OPT_LIGHT_PORT },
	{ "stamp-port", required_argument, 0, OPT_STAMP_PORT },
	{ "stateless", no_argument, 0, OPT_STATELESS },
	{ "log.level", required_argument, 0, OPT_LOG_LEVEL },
	{ "log.format", required_argument, 0, OPT_LOG_FORMAT },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 'V' },
	{ 0, 0, 0, 0 },
};

typedef struct reflect_opts {
	tw_server_params sp;
	tw_sockaddr udp_listen[2][MAX_LISTEN]; /* [0] TWAMP Light, [1] STAMP */
	size_t nudp[2];
	bool stateless;
	tw_light_stats udp_stats[2];
	uint16_t errest;
	tw_loop *loop;
	tw_timer errest_timer;
	tw_sockaddr listen[MAX_LISTEN];
	tw_addr_cidr allow[MAX_ALLOW];
	size_t nallow;
	const char *key_file;
	tw_keystore *keys;
	log_opts log;
} reflect_opts;

static int add_listen(reflect_opts *r, const tw_sockaddr *a)
{
	if (r->sp.nlisten >= MAX_LISTEN) {
		fprintf(stderr, "twamp-agent reflect: more than %d --listen addresses\n", MAX_LISTEN);
		return -EINVAL;
	}
	r->listen[r->sp.nlisten++] = *a;
	return 0;
}

/* ":PORT" listens on every IPv4 and IPv6 address; names are resolved. */
static int parse_listen(reflect_opts *r, const char *val)
{
	char host[TW_ADDR_HOST_MAX];
	uint16_t port;
	tw_sockaddr a;
	if (val[0] == ':' ? tw_addr_split(val, host, sizeof(host), &port) < 0
			  : tw_arg_hostport("reflect", "--listen", val, DEFAULT_PORT, host, sizeof(host), &port) < 0) {
		if (val[0] == ':')
			fprintf(stderr, "twamp-agent reflect: --listen '%s': expected :PORT with PORT 0-65535\n", val);
		return -EINVAL;
	}
	if (!host[0]) {
		tw_sa_from_numeric("0.0.0.0", port, &a);
		int rc = add_listen(r, &a);
		tw_sa_from_numeric("::", port, &a);
		return rc < 0 ? rc : add_listen(r, &a);
	}
	int gai;
	if (tw_net_resolve(host, port, AF_UNSPEC, &a, &gai) < 0) {
		fprintf(stderr, "twamp-agent reflect: --listen '%s': cannot resolve '%s': %s\n", val, host,
			gai_strerror(gai));
		return -EINVAL;
	}
	return add_listen(r, &a);
}

static int parse_allow(reflect_opts *r, const char *val)
{
	if (r->nallow >= MAX_ALLOW) {
		fprintf(stderr, "twamp-agent reflect: more than %d --allow networks\n", MAX_ALLOW);
		return -EINVAL;
	}
	int rc = tw_addr_cidr_parse(val, &r->allow[r->nallow]);
	if (rc == -EDOM) {
		char net[64];
		tw_addr_cidr_format(&r->allow[r->nallow], net, sizeof(net));
		fprintf(stderr, "twamp-agent reflect: --allow '%s': host bits set; did you mean %s?\n", val, net);
		return -EINVAL;
	}
	if (rc < 0) {
		fprintf(stderr, "twamp-agent reflect: --allow '%s': expected a CIDR such as 10.0.0.0/8 or 2001:db8::/32\n",
			val);
		return -EINVAL;
	}
	r->nallow++;
	return 0;
}

static int reflect_number(int c, const char *arg, reflect_opts *r)
{
	uint64_t v;
	int64_t d;
	switch (c) {
	case OPT_KDF_COUNT:
		if (tw_arg_u64("reflect", "--kdf-count", arg, 1024, 1u << 30, &v) < 0)
			return -EINVAL;
		if (v & (v - 1)) {
			fprintf(stderr, "twamp-agent reflect: --kdf-count '%s': expected a power of two\n", arg);
			return -EINVAL;
		}
		r->sp.kdf_count = (uint32_t)v;
		return 0;
	case OPT_MAX_CONN:
	case OPT_MAX_SESS:
		if (tw_arg_u64("reflect", c == OPT_MAX_CONN ? "--max-connections" : "--max-sessions", arg, 1,
			       c == OPT_MAX_CONN ? 65535 : TW_SERVER_MAX_SESSIONS, &v) < 0)
			return -EINVAL;
		*(c == OPT_MAX_CONN ? &r->sp.max_connections : &r->sp.max_sessions) = (uint32_t)v;
		return 0;
	case OPT_SERVWAIT:
	case OPT_REFWAIT:
		if (tw_arg_duration("reflect", c == OPT_SERVWAIT ? "--servwait" : "--refwait", arg, 1000000, &d) < 0)
			return -EINVAL;
		*(c == OPT_SERVWAIT ? &r->sp.servwait_ns : &r->sp.refwait_ns) = (uint64_t)d;
		return 0;
	}
	return -ENOENT;
}

/* --light-port / --stamp-port: every IPv4 and IPv6 address. */
static int parse_udp_port(reflect_opts *r, int i, const char *arg)
{
	uint64_t v;
	if (tw_arg_u64("reflect", i ? "--stamp-port" : "--light-port", arg, 1, 65535, &v) < 0)
		return -EINVAL;
	if (r->nudp[i] + 2 > MAX_LISTEN) {
		fprintf(stderr, "twamp-agent reflect: too many %s\n", i ? "--stamp-port" : "--light-port");
		return -EINVAL;
	}
	tw_sa_from_numeric("0.0.0.0", (uint16_t)v, &r->udp_listen[i][r->nudp[i]++]);
	tw_sa_from_numeric("::", (uint16_t)v, &r->udp_listen[i][r->nudp[i]++]);
	return 0;
}

static int reflect_option(int c, const char *arg, void *ctx)
{
	reflect_opts *r = ctx;
	switch (c) {
	case OPT_FEATURES:
		return tw_arg_features("reflect", "--features", arg, &r->sp.features);
	case OPT_REFLECT_TO_SOURCE:
		r->sp.reflect_to_source = true;
		return 0;
	case OPT_LIGHT_PORT:
	case OPT_STAMP_PORT:
		return parse_udp_port(r, c == OPT_STAMP_PORT, arg);
	case OPT_STATELESS:
		r->stateless = true;
		return 0;
	case OPT_LISTEN:
		return parse_listen(r, arg);
	case OPT_ALLOW:
		return parse_allow(r, arg);
	case OPT_MODES:
		return tw_arg_modes("reflect", "--modes", arg, &r->sp.modes);
	case OPT_KEY_FILE:
		r->key_file = arg;
		return 0;
	case OPT_TEST_PORTS:
		return tw_arg_port_range("reflect", "--test-ports", arg, &r->sp.port_min, &r->sp.port_max);
	case OPT_LOG_LEVEL:
	case OPT_LOG_FORMAT:
		return log_option("reflect", c, arg, &r->log);
	}
	return reflect_number(c, arg, r);
}

static bool allow_cb(void *arg, const tw_sockaddr *peer)
{
	reflect_opts *r = arg;
	return tw_addr_allowed(r->allow, r->nallow, (const struct sockaddr *)&peer->ss);
}

static const uint8_t *secret_cb(void *arg, const char *identity, size_t *len)
{
	reflect_opts *r = arg;
	const uint8_t *secret = NULL;
	return r->keys && tw_keystore_lookup(r->keys, identity, &secret, len) ? secret : NULL;
}

static int load_reflect_keys(reflect_opts *r)
{
	bool keyed = (r->sp.modes & (TW_MODE_AUTH | TW_MODE_ENC | TW_MODE_MIXED)) != 0;
	if (keyed && !r->key_file) {
		fprintf(stderr, "twamp-agent reflect: --modes with authenticated, encrypted or mixed needs --key-file\n");
		return -EINVAL;
	}
	if (!r->key_file)
		return 0;
	char err[TW_KEYSTORE_ERR_LEN];
	if (tw_keystore_load(r->key_file, &r->keys, err, sizeof(err)) < 0) {
		fprintf(stderr, "twamp-agent reflect: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

static void on_stop_signal(void *arg, int signo)
{
	tw_info("shutting down", "signal=%s", signo == SIGINT ? "SIGINT" : "SIGTERM");
	tw_loop_stop(arg);
}

static void refresh_errest(void *arg)
{
	reflect_opts *r = arg;
	tw_sync_state st = tw_clock_sync_state();
	r->errest = tw_clock_errest_word(&st);
	tw_timer_in(r->loop, &r->errest_timer, 1000000000);
}

/* A port given to both --light-port and --stamp-port is served by STAMP,
 * which answers TWAMP Light senders too. */
static void drop_shared_ports(reflect_opts *r)
{
	size_t k = 0;
	for (size_t i = 0; i < r->nudp[0]; i++) {
		bool shared = false;
		for (size_t j = 0; j < r->nudp[1]; j++)
			shared |= tw_sa_equal(&r->udp_listen[0][i], &r->udp_listen[1][j]);
		if (!shared)
			r->udp_listen[0][k++] = r->udp_listen[0][i];
	}
	r->nudp[0] = k;
}

static int start_udp_reflectors(tw_loop *loop, reflect_opts *r, tw_light **out)
{
	char err[256];
	drop_shared_ports(r);
	for (int i = 0; i < 2; i++) {
		if (!r->nudp[i])
			continue;
		tw_light_params p = {
			.proto = i ? TW_LIGHT_STAMP : TW_LIGHT_TWAMP,
			.listen = r->udp_listen[i],
			.nlisten = r->nudp[i],
			.stateless = r->stateless,
			.reply_dscp = -1,
			.allow_cos_dscp = true,
			.allow = allow_cb,
			.allow_arg = r,
			.errest = &r->errest,
			.stats = &r->udp_stats[i],
		};
		if (!(out[i] = tw_light_new(loop, &p, err, sizeof(err)))) {
			fprintf(stderr, "twamp-agent reflect: %s\n", err);
			return -EADDRINUSE;
		}
	}
	return 0;
}

static int run_reflector(reflect_opts *r)
{
	tw_loop *loop = tw_loop_new(NULL);
	tw_light *udp[2] = { NULL, NULL };
	char err[256];
	if (!loop)
		return 1;
	r->loop = loop;
	tw_timer_init(&r->errest_timer, refresh_errest, r);
	refresh_errest(r);
	tw_server *srv = tw_server_new(loop, &r->sp, err, sizeof(err));
	int rc = srv ? start_udp_reflectors(loop, r, udp) : -EADDRINUSE;
	if (!srv)
		fprintf(stderr, "twamp-agent reflect: %s\n", err);
	if (rc == 0) {
		tw_loop_signal(loop, SIGINT, on_stop_signal, loop);
		tw_loop_signal(loop, SIGTERM, on_stop_signal, loop);
		signal(SIGPIPE, SIG_IGN);
		rc = tw_loop_run(loop);
	}
	tw_light_free(udp[0]);
	tw_light_free(udp[1]);
	tw_server_free(srv);
	tw_timer_stop(loop, &r->errest_timer);
	tw_loop_free(loop);
	return rc < 0 ? 1 : 0;
}

static int cmd_reflect(int argc, char **argv)
{
	static reflect_opts r; /* large: keep it off the stack */
	memset(&r, 0, sizeof(r));
	r.sp = (tw_server_params){
		.modes = TW_MODE_OPEN,
		.max_connections = 64,
		.max_sessions = 16,
		.servwait_ns = 900000000000ULL,
		.refwait_ns = 900000000000ULL,
		.kdf_count = 2048,
		.allow = allow_cb,
		.allow_arg = &r,
		.secret = secret_cb,
		.secret_arg = &r,
	};
	r.log.level = TW_LOG_INFO;
	int rc = parse_options("reflect", argc, argv, ":h", reflect_options, reflect_help, reflect_option, &r);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("reflect", "unexpected argument");
	if (r.sp.nlisten == 0 && parse_listen(&r, ":862") < 0)
		return EXIT_USAGE;
	if (load_reflect_keys(&r) < 0)
		return EXIT_USAGE;
	tw_log_setup(r.log.level, r.log.format);
	r.sp.listen = r.listen;
	rc = run_reflector(&r);
	tw_keystore_free(r.keys);
	return rc;
}


/* ---- run ---- */

static const char run_help[] =
	"usage: twamp-agent [run] [options]\n"
	"\n"
	"Runs the agent: one continuous TWAMP session per configured target, the\n"
	"TWAMP server/reflector for peers, and the HTTP exporter. Without\n"
	"--config.file it runs the embedded default: a reflector on 127.0.0.1:18620\n"
	"and [::1]:18620 and a target measuring it every 100ms.\n"
	"\n"
	"  --config.file FILE            YAML configuration (see config/examples/)\n"
	"  --config.check                validate the configuration and its key files,\n"
	"                                print a summary, exit 0 (valid) or 1\n"
	"  --config.schema               print every configuration key with its type,\n"
	"                                default and description, and exit\n"
	"  --web.listen-address ADDR     HTTP listen address, repeatable (default :9862;\n"
	"                                IPv6 in brackets, [::1]:9862)\n"
	"  --web.telemetry-path PATH     metrics path (default /metrics)\n"
	"  --dns.refresh-interval T      re-resolve target names this often (default 5m)\n"
	"  --log.level LEVEL             debug, info, warn, error (default info)\n"
	"  --log.format FORMAT           logfmt or json (default logfmt)\n"
	"\n"
	"Endpoints: / (status), /metrics, /-/healthy, /-/ready, POST /-/reload.\n"
	"SIGHUP reloads the configuration; an invalid one is rejected and the\n"
	"running one kept. Exit status: 0 after SIGTERM/SIGINT, 1 when start-up\n"
	"failed, 2 for a bad command line.\n";

enum {
	OPT_CONFIG_FILE = 512,
	OPT_CONFIG_CHECK,
	OPT_CONFIG_SCHEMA,
	OPT_WEB_LISTEN,
	OPT_WEB_PATH,
	OPT_DNS_REFRESH,
};

static const struct option run_options[] = {
	{ "config.file", required_argument, 0, OPT_CONFIG_FILE },
	{ "config.check", no_argument, 0, OPT_CONFIG_CHECK },
	{ "config.schema", no_argument, 0, OPT_CONFIG_SCHEMA },
	{ "web.listen-address", required_argument, 0, OPT_WEB_LISTEN },
	{ "web.telemetry-path", required_argument, 0, OPT_WEB_PATH },
	{ "dns.refresh-interval", required_argument, 0, OPT_DNS_REFRESH },
	{ "log.level", required_argument, 0, OPT_LOG_LEVEL },
	{ "log.format", required_argument, 0, OPT_LOG_FORMAT },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 'V' },
	{ 0, 0, 0, 0 },
};

typedef struct run_opts {
	tw_agent_opts a;
	bool check;
	bool schema;
	log_opts log;
} run_opts;

static int run_option(int c, const char *arg, void *ctx)
{
	run_opts *r = ctx;
	switch (c) {
	case OPT_CONFIG_FILE:
		r->a.config_file = arg;
		return 0;
	case OPT_CONFIG_CHECK:
		r->check = true;
		return 0;
	case OPT_CONFIG_SCHEMA:
		r->schema = true;
		return 0;
	case OPT_WEB_LISTEN:
		if (r->a.nweb >= TW_AGENT_MAX_WEB) {
			fprintf(stderr, "twamp-agent run: more than %d --web.listen-address\n", TW_AGENT_MAX_WEB);
			return -EINVAL;
		}
		r->a.web_listen[r->a.nweb++] = arg;
		return 0;
	case OPT_WEB_PATH:
		if (arg[0] == '/' && !strchr(arg, '?'))
			return (r->a.telemetry_path = arg), 0;
		fprintf(stderr, "twamp-agent run: --web.telemetry-path '%s': expected a path starting with /\n", arg);
		return -EINVAL;
	case OPT_DNS_REFRESH:
		return tw_arg_duration("run", "--dns.refresh-interval", arg, 1000000000, &r->a.dns_refresh_ns);
	}
	return log_option("run", c, arg, &r->log);
}

static int cmd_run(int argc, char **argv)
{
	static run_opts r;
	memset(&r, 0, sizeof(r));
	r.log.level = TW_LOG_INFO;
	int rc = parse_options("run", argc, argv, ":h", run_options, run_help, run_option, &r);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("run", "unexpected argument");
	if (r.schema) {
		tw_config_schema_print(stdout);
		return 0;
	}
	if (r.check)
		return tw_agent_check_config(r.a.config_file);
	tw_log_setup(r.log.level, r.log.format);
	return tw_agent_run(&r.a);
}

/* ---- dispatch ---- */

int tw_cli_main(int argc, char **argv)
{
	if (argc < 2)
		return cmd_run(argc, argv); /* the main job on the embedded default */
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0) {
		print_version();
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		print_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "ping") == 0)
		return cmd_ping(argc - 1, argv + 1);
	if (strcmp(cmd, "reflect") == 0)
		return cmd_reflect(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (cmd[0] == '-') /* global flags without a command: run */
		return cmd_run(argc, argv);
	fprintf(stderr, "twamp-agent: unknown command '%s' (expected run, reflect or ping; see --help)\n", cmd);
	return EXIT_USAGE;
}
