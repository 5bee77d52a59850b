#include "webm_parse.h"

#include <cstdint>
#include <utility>
#include <vector>

#include <webm/buffer_reader.h>
#include <webm/callback.h>
#include <webm/status.h>
#include <webm/webm_parser.h>

namespace
{

class Summary : public webm::Callback
{
  public:
    webm_summary sum{};

    webm::Status OnFrame(const webm::FrameMetadata &metadata, webm::Reader *reader,
                         std::uint64_t *bytes_remaining) override
    {
        sum.frames++;
        sum.frame_bytes += metadata.size;
        return webm::Callback::OnFrame(metadata, reader, bytes_remaining);
    }

    webm::Status OnCuePoint(const webm::ElementMetadata &, const webm::CuePoint &) override
    {
        sum.cue_points++;
        return webm::Status(webm::Status::kOkCompleted);
    }

    webm::Status OnTrackEntry(const webm::ElementMetadata &, const webm::TrackEntry &) override
    {
        sum.tracks++;
        return webm::Status(webm::Status::kOkCompleted);
    }
};

} // namespace

extern "C" int webm_parse(const uint8_t *data, size_t size, struct webm_summary *out)
{
    webm::BufferReader reader(std::vector<std::uint8_t>(data, data + size));
    Summary summary;
    webm::WebmParser parser;
    webm::Status status = parser.Feed(&summary, &reader);
    *out = summary.sum;
    return status.completed_ok() ? 0 : -1;
}
