#include "webm_parse.h"

#include <cstdint>
#include <cstring>

#include <webm/callback.h>
#include <webm/reader.h>
#include <webm/status.h>
#include <webm/webm_parser.h>

namespace
{

// The file in place, without a copy.
class MemoryReader : public webm::Reader
{
  public:
    MemoryReader(const uint8_t *data, size_t size) : data_(data), size_(size)
    {
    }

    webm::Status Read(std::size_t num, std::uint8_t *buffer, std::uint64_t *got) override
    {
        std::size_t n = num < size_ - pos_ ? num : size_ - pos_;
        std::memcpy(buffer, data_ + pos_, n);
        return advance(num, n, got);
    }

    webm::Status Skip(std::uint64_t num, std::uint64_t *skipped) override
    {
        std::uint64_t left = size_ - pos_;
        return advance(num, static_cast<std::size_t>(num < left ? num : left), skipped);
    }

    std::uint64_t Position() const override
    {
        return pos_;
    }

  private:
    webm::Status advance(std::uint64_t asked, std::size_t n, std::uint64_t *done)
    {
        pos_ += n;
        *done = n;
        if (n == 0) {
            return webm::Status(webm::Status::kEndOfFile);
        }
        return webm::Status(n == asked ? webm::Status::kOkCompleted : webm::Status::kOkPartial);
    }

    const uint8_t *data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

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
    MemoryReader reader(data, size);
    Summary summary;
    webm::WebmParser parser;
    webm::Status status = parser.Feed(&summary, &reader);
    *out = summary.sum;
    return status.completed_ok() ? 0 : -1;
}
