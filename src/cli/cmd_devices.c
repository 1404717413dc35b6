/* mambacl devices: one row per OpenCL device, or a JSON array. */
#include <stdio.h>
#include <stdlib.h>

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
           "default (rules from the device's limits).\n");
}

/* The tuning source of each device (file in the cache directory, built-in, default). */
static const char *tuning_of(const mcl_device_info *d)
{
    char dir[4096];
    bool have_dir = mcl_cache_dir(NULL, dir, sizeof dir) == MCL_OK;
    return mcl_tunedb_source(have_dir ? dir : NULL, d);
}

static int print_json(const mcl_device_info *list, int n, int def)
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

static void print_table(const mcl_device_info *list, int n, int def)
{
    printf("%-3s %-28s %-36s %-4s %4s %9s %9s %6s %-5s %-9s %-8s\n", "idx", "platform", "name", "type",
           "CUs", "global", "local", "maxwg", "fp16", "subgroups", "tuning");
    for (int i = 0; i < n; i++) {
        const mcl_device_info *d = &list[i];
        printf("%-3d %-28.28s %-36.36s %-4s %4u %7.1fGB %6lluKiB %6zu %-5s %-9s %-8s%s\n", d->index,
               d->platform, d->name, mcl_device_type_name(d->type), d->compute_units,
               (double)d->global_mem_bytes / 1e9, (unsigned long long)(d->local_mem_bytes / 1024),
               d->max_work_group_size, d->has_fp16 ? "yes" : "no", d->has_subgroups ? "yes" : "no",
               tuning_of(d), i == def ? "  (default)" : "");
    }
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
    mcl_status st = mcl_device_list(&list, &n);
    if (st != MCL_OK) return cli_runtime_error("devices", st);
    if (n > 0 && mcl_device_select(list, n, NULL, &def) != MCL_OK) def = -1;
    int rc = CLI_EXIT_OK;
    if (json) rc = print_json(list, n, def);
    else if (n == 0) printf("no OpenCL devices found\n");
    else print_table(list, n, def);
    mcl_device_list_free(list);
    return rc;
}
