#pragma once
// Loading of the files under a private data dir's env/ (and PDD/args), the way ansible-runner's
// ArtifactLoader reads them: structured files as JSON, else YAML with PyYAML's safe_load typing;
// string files as raw text. Pure functions over the filesystem; safe to call from any thread.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "arunner/error.hpp"

namespace arunner::config {

/// Parses one YAML document and types its plain scalars like PyYAML's `safe_load` (YAML 1.1
/// resolver: null, bool yes/no/on/off/true/false, ints in decimal, octal `0..`, hex `0x`, binary
/// `0b` and sexagesimal `1:30`, floats only with a dot, `.inf`, `.nan`), honours `!!str`,
/// `!!int`, `!!float`, `!!bool`, `!!null` and merge keys `<<`. Quoted scalars stay strings;
/// non-string mapping keys become their Python `str()`; an empty stream is null. Integers beyond
/// 64 bits are kept as their decimal string. Fails with `<source_name>: invalid YAML at line L,
/// column C: <reason>` on a syntax error, an unknown tag, an unhashable key, several documents,
/// a cyclic alias, nesting deeper than 1000, or aliases expanding past 16 MiB plus four times
/// the text's size.
Result<nlohmann::ordered_json> yaml_to_json(std::string_view text, std::string_view source_name);

/// Loads a structured env file (env/envvars, env/passwords, env/settings): `relative` beneath
/// the private data dir `dir`, read as util::read_file_beneath() reads (no link out of the dir,
/// a regular file or a FIFO, at most 16 MiB, a FIFO given 10 s). Returns nullopt when the file
/// does not exist, is empty or blank, or holds a YAML null document. Otherwise the text is
/// parsed as JSON (key order kept) and, when that fails or gives a falsy value, as YAML. Fails,
/// naming `relative`, when the file cannot be read, cannot be parsed (a JSON-looking text
/// reports the JSON error and its position, anything else the YAML one), or holds something
/// other than a mapping.
Result<std::optional<nlohmann::ordered_json>> load_mapping_file(const std::filesystem::path& dir,
                                                                const std::string& relative);

/// Reads a string file (env/cmdline, env/ssh_key, args) beneath `dir` as raw bytes, with the
/// same rules as load_mapping_file(). Returns nullopt when it does not exist; fails with
/// `cannot read <relative>: <why>` when it cannot be read (permission denied, a directory, a
/// link out of the dir, a device, too large).
Result<std::optional<std::string>> load_text_file(const std::filesystem::path& dir,
                                                  const std::string& relative);

/// Turns each key and value of a mapping into text with Python's `str()` (util::python_str),
/// keeping their order: how env/envvars entries reach the child's environment. A value that is
/// not an object gives an empty list.
std::vector<std::pair<std::string, std::string>> stringify_mapping(
    const nlohmann::ordered_json& mapping);

}  // namespace arunner::config
