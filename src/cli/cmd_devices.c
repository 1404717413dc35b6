/* mambacl devices: one row per OpenCL device, or a JSON array. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "mcl_internal.h"

static void help(void)
{
    printf("usage: mambacl devices [--json]\n"
           "\n"
           "Lists every OpenCL device of every platform. The index, or a case-insensitive\n"
           "substring of the platform or device name, selects a device in other commands\n"
           "(--device SEL or MAMBACL_DEVICE=SEL); so do the names gpu, cpu, accelerator (the\n"
           "first such device) and pocl. Devices are listed real GPUs first, then\n"
           "accelerators, CPUs, others, and simulators (Oclgrind) last; the default is the\n"
           "first device that is not a simulator (a simulator only runs when selected).\n"
           "\n"
           "  --json   print a JSON array on one line (index, platform, name, type, compute_units,\n"
           "           global_mem_bytes, local_mem_bytes, max_work_group_size, ...)\n"
           "The tuning column says where kernel tunables come from: tuned (a file from\n"
           "`mambacl tune` in the cache directory), built-in (measured by the project), or\n"
           "default (rules from the device's limits).\n"
           "The capabilities column lists the vendor paths that are on: each is detected\n"
           "(extension or vendor attribute), then proven by a tiny probe kernel with a known\n"
           "answer (cached); lines below the table say why a detected one is off.\n"
           "MAMBACL_DISABLE=fp16,subgroups,ptx,mma turns capabilities off by hand.\n");
}

/* The tuning source of each device (file in the cache directory, built-in, default). */
static const char *tuning_of(const mcl_device_info *d)
{
    char dir[4096];
    bool have_dir = mcl_cache_dir(NULL, dir, sizeof dir) == MCL_OK;
    return mcl_tunedb_source(have_dir ? dir : NULL, d);
}

static void add_caps_json(cJSON *o, const mcl_caps *c)
{
    cJSON_AddStringToObject(o, "vendor_family", mcl_vendor_name(c->vendor));
    if (c->cc_major) {
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", c->cc_major, c->cc_minor);
        cJSON_AddStringToObject(o, "compute_capability", cc);
        cJSON_AddNumberToObject(o, "warp_size", c->warp_size);
    }
    cJSON_AddNumberToObject(o, "subgroup_size", c->subgroup_size);
    cJSON *caps = cJSON_AddObjectToObject(o, "capabilities");
    for (int i = 0; caps && i < MCL_CAP_COUNT; i++) {
        cJSON *e = cJSON_AddObjectToObject(caps, mcl_cap_name((mcl_cap_id)i));
        if (!e) continue;
        cJSON_AddBoolToObject(e, "detected", c->cap[i].detected);
        cJSON_AddBoolToObject(e, "on", c->cap[i].on);
        cJSON_AddStringToObject(e, "reason", c->cap[i].reason);
    }
}

/* "fp16,ptx,mma" (the capabilities that are on) or "-". */
static const char *caps_list(const mcl_caps *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < MCL_CAP_COUNT; i++)
        if (c->cap[i].on)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? "," : "", mcl_cap_name((mcl_cap_id)i));
    return buf[0] ? buf : "-";
}

static int print_json(const mcl_device_info *list, const mcl_caps *caps, int n, int def)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n && arr; i++) {
        const mcl_device_info *d = &list[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", d->index);
        cJSON_AddStringToObject(o, "platform", d->platform);
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "vendor", d->vendor);
        cJSON_AddStringToObject(o, "type", mcl_device_type_name(d->type));
        cJSON_AddStringToObject(o, "driver_version", d->driver_version);
        cJSON_AddStringToObject(o, "opencl_c_version", d->opencl_c_version);
        cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
        cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem_bytes);
        cJSON_AddNumberToObject(o, "local_mem_bytes", (double)d->local_mem_bytes);
        cJSON_AddStringToObject(o, "local_mem_type", d->local_mem_is_local ? "local" : "global");
        cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc_bytes);
        cJSON_AddNumberToObject(o, "max_work_group_size", (double)d->max_work_group_size);
        cJSON_AddNumberToObject(o, "preferred_work_group_multiple", (double)d->preferred_wg_multiple);
        cJSON_AddBoolToObject(o, "fp16", d->has_fp16);
        cJSON_AddBoolToObject(o, "fp64", d->has_fp64);
        cJSON_AddBoolToObject(o, "subgroups", d->has_subgroups);
        cJSON_AddBoolToObject(o, "simulator", d->is_simulator);
        cJSON_AddBoolToObject(o, "default", i == def);
        cJSON_AddStringToObject(o, "tuning", tuning_of(d));
        add_caps_json(o, &caps[i]);
        cJSON_AddItemToArray(arr, o);
    }
    char *s = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    if (!s) {
        fprintf(stderr, "mambacl devices: error: out of memory\n");
        return CLI_EXIT_RUNTIME;
    }
    printf("%s\n", s);
    free(s);
    return CLI_EXIT_OK;
}

static void print_table(const mcl_device_info *list, const mcl_caps *caps, int n, int def)
{
    char buf[64];
    printf("%-3s %-28s %-36s %-4s %4s %9s %9s %6s %-5s %-9s %-8s %-18s\n", "idx", "platform", "name", "type",
           "CUs", "global", "local", "maxwg", "fp16", "subgroups", "tuning", "capabilities");
    for (int i = 0; i < n; i++) {
        const mcl_device_info *d = &list[i];
        printf("%-3d %-28.28s %-36.36s %-4s %4u %7.1fGB %6lluKiB %6zu %-5s %-9s %-8s %-18s%s\n", d->index,
               d->platform, d->name, mcl_device_type_name(d->type), d->compute_units,
               (double)d->global_mem_bytes / 1e9, (unsigned long long)(d->local_mem_bytes / 1024),
               d->max_work_group_size, d->has_fp16 ? "yes" : "no", d->has_subgroups ? "yes" : "no",
               tuning_of(d), caps_list(&caps[i], buf, sizeof buf), i == def ? "  (default)" : "");
    }
    for (int i = 0; i < n; i++)
        for (int c = 0; c < MCL_CAP_COUNT; c++)
            if (caps[i].cap[c].detected && !caps[i].cap[c].on)
                printf("device %d: %s off: %s\n", i, mcl_cap_name((mcl_cap_id)c), caps[i].cap[c].reason);
}

/* The capabilities of every device, through the cache directory. */
static mcl_status read_caps(const mcl_device_info *list, int n, cl_platform_id *pl, cl_device_id *dv,
                            mcl_caps *out)
{
    char dir[4096];
    bool have_dir = mcl_cache_dir(NULL, dir, sizeof dir) == MCL_OK;
    const char *nc = getenv("MAMBACL_NO_CACHE");
    if (nc && *nc && strcmp(nc, "0") != 0) have_dir = false;
    for (int i = 0; i < n; i++) MCL_TRY(mcl_caps_load(pl[i], dv[i], &list[i], have_dir ? dir : NULL, &out[i]));
    return MCL_OK;
}

int cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0}};
    bool json = false;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        if (c == 'h') return help(), CLI_EXIT_OK;
        if (c == 'j') json = true;
        else return CLI_EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error("devices", "unexpected argument '%s'", argv[optind]);
    mcl_device_info *list = NULL;
    int n = 0, def = -1;
    cl_platform_id *pl = NULL;
    cl_device_id *dv = NULL;
    mcl_status st = mcl_device_enumerate(&list, &pl, &dv, &n, true);
    if (st != MCL_OK) return cli_runtime_error("devices", st);
    mcl_caps *caps = calloc(n > 0 ? (size_t)n : 1, sizeof *caps);
    if (!caps) st = mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    if (st == MCL_OK) st = read_caps(list, n, pl, dv, caps);
    free(pl);
    free(dv);
    if (st != MCL_OK) {
        free(caps);
        mcl_device_list_free(list);
        return cli_runtime_error("devices", st);
    }
    if (n > 0 && mcl_device_select(list, n, NULL, &def) != MCL_OK) def = -1;
    int rc = CLI_EXIT_OK;
    if (json) rc = print_json(list, caps, n, def);
    else if (n == 0) printf("no OpenCL devices found\n");
    else print_table(list, caps, n, def);
    free(caps);
    mcl_device_list_free(list);
    return rc;
}
