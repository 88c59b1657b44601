//! Work spread over the cores: the hashing of ingest and verification, where each item stands alone.

/// `check` of every item, on as many threads as there are cores (up to four), in item order.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], check: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
    if threads < 2 || items.len() < 64 {
        return items.iter().enumerate().map(|(i, item)| check(i, item)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let check = &check;
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(n, part)| {
                scope.spawn(move || {
                    part.iter().enumerate().map(|(i, item)| check(n * chunk + i, item)).collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}
