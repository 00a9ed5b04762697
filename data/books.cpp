// Book-Crossing ratings reader. Test: tests/data/test_jester_books.cpp.
#include "data/books.h"

#include "core/error.h"
#include "data/recsys.h"
#include "data/table.h"

namespace comet::data {

namespace {

struct BookRecords {
  std::vector<int64_t> user, rating, line;
  std::vector<std::string> isbn;
};

BookRecords read_book_records(const std::string& path) {
  TableOptions options;
  options.separator = ";";
  options.quoted = true;
  options.has_header = true;
  options.columns = 3;
  options.expected_header = {"User-ID", "ISBN", "Book-Rating"};
  BookRecords r;
  read_table(path, options, [&](const TableRow& row) {
    r.user.push_back(row.integer(0));
    if (row.text(1).empty()) row.fail(1, "empty ISBN");
    r.isbn.emplace_back(row.text(1));
    r.rating.push_back(row.integer_in(2, 0, 10));
    r.line.push_back(row.line());
  });
  return r;
}

// Which records have both a user and a book with at least `min_records` records (counted over all records).
std::vector<bool> frequent_records(const BookRecords& r, int64_t min_records) {
  const DenseIds users = dense_ids(r.user), books = dense_ids(r.isbn);
  std::vector<int64_t> per_user(static_cast<size_t>(users.size)), per_book(static_cast<size_t>(books.size));
  for (size_t i = 0; i < r.user.size(); ++i) {
    ++per_user[static_cast<size_t>(users.index[i])];
    ++per_book[static_cast<size_t>(books.index[i])];
  }
  std::vector<bool> keep(r.user.size());
  for (size_t i = 0; i < r.user.size(); ++i)
    keep[i] = per_user[static_cast<size_t>(users.index[i])] >= min_records &&
              per_book[static_cast<size_t>(books.index[i])] >= min_records;
  return keep;
}

}  // namespace

Splits read_books(const std::string& path, uint64_t seed) {
  BookRecords all = read_book_records(path);
  const std::vector<bool> keep = frequent_records(all, kBooksMinRecords);
  BookRecords kept;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) continue;
    kept.user.push_back(all.user[i]);
    kept.isbn.push_back(std::move(all.isbn[i]));
    kept.rating.push_back(all.rating[i]);
    kept.line.push_back(all.line[i]);
  }
  COMET_CHECK(!kept.user.empty(), "{}: no user and book with at least {} records ({} records read)", path,
              kBooksMinRecords, all.user.size());
  const DenseIds users = dense_ids(kept.user), books = dense_ids(kept.isbn);
  Interactions records;
  records.file = path;
  records.users = users.size;
  records.items = books.size;
  for (size_t i = 0; i < kept.user.size(); ++i)
    records.add(users.index[i], books.index[i], kept.line[i], static_cast<float>(kept.rating[i]), kept.rating[i] > 0);
  return recommender_splits(
      records, seed,
      fmt::format("Book-Crossing {}: {} records read, {} kept (users and books with >= {} records), {} users, {} books",
                  path, all.user.size(), records.size(), kBooksMinRecords, users.size, books.size));
}

}  // namespace comet::data
