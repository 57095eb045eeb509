// Fuzzes the env-file loader (src/config/env_file.hpp): env/envvars, env/passwords and
// env/settings come with the job, from whoever wrote the private data dir or the job stream.
//
// The input is the file's text. It is written to env/settings in a scratch dir (made once per
// process under TMPDIR, removed at exit) and loaded from there (JSON, then YAML with PyYAML's
// typing), and given to yaml_to_json() directly; nothing may throw, and:
// - a loaded file is a mapping, and turns into environment text (str() of each value);
// - a non-blank file that is not UTF-8 is refused;
// - a file nlohmann parses strictly to a non-empty object (not nested too deep) loads as exactly
//   that object, key order included;
// - a YAML document converts to JSON that can be written out as Python's json.dumps would.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/env_file.hpp"
#include "fuzz_check.hpp"
#include "util/python_json.hpp"
#include "util/text.hpp"

namespace {

using Json = nlohmann::ordered_json;

int depth(const Json& v) {
    int deepest = 0;
    if (v.is_structured()) {
        for (const Json& child : v) {
            deepest = std::max(deepest, 1 + depth(child));
        }
    }
    return deepest;
}

/// The scratch private data dir, with its env/, made on first use and removed at exit.
const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern =
            std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/env-file-fuzz-XXXXXX";
        FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
        std::filesystem::create_directory(std::filesystem::path(pattern) / "env");
        std::atexit([] { std::filesystem::remove_all(scratch_dir()); });
        return std::filesystem::path(pattern);
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    const std::filesystem::path& dir = scratch_dir();
    {
        std::ofstream file(dir / "env/settings", std::ios::binary | std::ios::trunc);
        file.write(text.data(), static_cast<std::streamsize>(text.size()));
        FUZZ_CHECK(file.good(), "write env/settings");
    }

    auto loaded = arunner::config::load_mapping_file(dir, "env/settings");
    const bool blank = text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
    if (!blank && !arunner::util::is_valid_utf8(text)) {
        FUZZ_CHECK(!loaded.ok(), "a file that is not UTF-8 is refused");
    }
    if (loaded.ok() && *loaded) {
        const Json& mapping = **loaded;
        FUZZ_CHECK(mapping.is_object(), "a loaded env file is a mapping");
        auto pairs = arunner::config::stringify_mapping(mapping);
        FUZZ_CHECK(pairs.size() == mapping.size(), "one environment entry per key");
        std::string dumped;
        arunner::util::python_json_dump(mapping, dumped);
    }
    if (blank) {
        FUZZ_CHECK(loaded.ok() && !*loaded, "a blank file holds nothing");
    }

    // Strict JSON is taken as it is (the YAML reading is only for what JSON cannot read).
    Json strict = Json::parse(text, nullptr, false);
    if (!strict.is_discarded() && strict.is_object() && !strict.empty() &&
        arunner::util::is_valid_utf8(text) && depth(strict) < 1000) {
        FUZZ_CHECK(loaded.ok() && *loaded, "a JSON object loads");
        FUZZ_CHECK(**loaded == strict && (*loaded)->dump() == strict.dump(),
                   "a JSON object loads as it is");
    }

    auto yaml = arunner::config::yaml_to_json(text, "fuzz.yml");
    if (yaml.ok()) {
        std::string dumped;
        arunner::util::python_json_dump(*yaml, dumped);
    }
    return 0;
}
