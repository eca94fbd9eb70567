//! Shop listing: the filters, ordering and paging behind `GET /services`.
//!
//! Pure functions over the seed so the rules can be tested without HTTP.

use super::seed::{SHOPS, Shop};

/// Largest page the sandbox hands out, whatever `size` asks for.
pub(crate) const MAX_PAGE: usize = 100;
/// Page size when `size` is absent, as the document says.
pub(crate) const DEFAULT_PAGE: usize = 20;

/// A BD-09 point the caller is at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Point {
    pub lng: f64,
    pub lat: f64,
}

/// What `GET /services` asked for, already parsed.
#[derive(Debug)]
pub(crate) struct ListQuery<'a> {
    pub city: &'a str,
    pub category: Option<&'a str>,
    pub search: Option<&'a str>,
    pub near: Option<Point>,
    pub start: usize,
    pub size: usize,
}

/// The page of shops matching `query`: filtered, ordered by distance when a point is given
/// (seed order breaks ties, so equal distances stay stable), otherwise in seed order.
pub(crate) fn list(query: &ListQuery<'_>) -> Vec<&'static Shop> {
    let needle = query
        .search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let mut shops: Vec<&'static Shop> = SHOPS
        .iter()
        .filter(|s| s.city == query.city)
        .filter(|s| query.category.is_none_or(|c| s.category_id == c))
        .filter(|s| needle.as_deref().is_none_or(|n| matches(s, n)))
        .collect();
    if let Some(point) = query.near {
        // sort_by is stable, so shops at the same distance keep seed order.
        shops.sort_by(|a, b| distance_m(point, at(a)).total_cmp(&distance_m(point, at(b))));
    }
    shops
        .into_iter()
        .skip(query.start)
        .take(query.size.min(MAX_PAGE))
        .collect()
}

fn at(shop: &Shop) -> Point {
    Point {
        lng: shop.lng,
        lat: shop.lat,
    }
}

/// Substring match on the title, the description and the price names, ignoring ASCII case.
fn matches(shop: &Shop, needle: &str) -> bool {
    shop.title.to_lowercase().contains(needle)
        || shop.description.to_lowercase().contains(needle)
        || shop
            .prices
            .iter()
            .any(|p| p.name.to_lowercase().contains(needle))
}

/// Great-circle distance in metres. BD-09 is offset from WGS-84 by a few hundred metres at most,
/// and the offset is nearly uniform within a city, so haversine on the raw coordinates orders
/// shops the way the platform would.
pub(crate) fn distance_m(a: Point, b: Point) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(city: &str) -> ListQuery<'_> {
        ListQuery {
            city,
            category: None,
            search: None,
            near: None,
            start: 0,
            size: DEFAULT_PAGE,
        }
    }

    #[test]
    fn distance_is_plausible() {
        // 天安门 to 国贸 is a little under 6 km.
        let d = distance_m(
            Point {
                lng: 116.404,
                lat: 39.915,
            },
            Point {
                lng: 116.467,
                lat: 39.915,
            },
        );
        assert!((5_000.0..6_000.0).contains(&d), "{d}");
    }

    #[test]
    fn nearest_first() {
        let mut q = query("北京");
        // Standing at 白领洗衣's door.
        q.near = Some(Point {
            lng: 116.366,
            lat: 39.921,
        });
        let shops = list(&q);
        assert_eq!(shops.first().map(|s| s.title), Some("白领洗衣"));
        assert_eq!(shops.last().map(|s| s.title), Some("蓝天搬家"));
    }

    #[test]
    fn search_reaches_price_names() {
        let mut q = query("北京");
        q.search = Some("空调清洗");
        let shops = list(&q);
        assert_eq!(shops.len(), 1);
        assert_eq!(shops[0].title, "快修师傅家电维修");
    }

    #[test]
    fn paging_caps_size() {
        let mut q = query("北京");
        q.size = 10_000;
        assert_eq!(list(&q).len(), 8);
        q.start = 7;
        assert_eq!(list(&q).len(), 1);
        q.start = 50;
        assert!(list(&q).is_empty());
    }
}
